import {
  CourseDatasetListSchema,
  CourseJobListSchema,
  CourseKeyCreatedSchema,
  CourseListSchema,
  CourseSchema,
  CourseUsageSchema,
  EndpointListSchema,
  ModelCatalogSchema,
  ProfileListSchema,
  Routes,
  TierListSchema
} from '@hpc-bridge/server/contract';
import type * as contract from '@hpc-bridge/server/contract';
import type { IBridgeClient } from '../tokens';

/** The contract's course types. */
export namespace Courses {
  export type Summary = contract.CourseList['courses'][number];
  export type Course = contract.Course;
  export type Update = contract.CourseUpdate;
  export type Usage = contract.CourseUsage;
  export type StudentUsage = contract.CourseUsage['students'][number];
  export type Job = contract.CourseJobList['jobs'][number];
  export type KeyCreated = contract.CourseKeyCreated;
  export type DatasetList = contract.CourseDatasetList;
  export type Endpoint = contract.Endpoint;
  export type Tier = contract.Tier;
  export type Profile = contract.Profile;
  export type JobAllowance = contract.CourseJobAllowance;
}

/** The course routes (and what the settings form offers); the Course model talks to the bridge only through this. */
export interface ICourseApi {
  whoami(): Promise<{ name: string }>;
  list(): Promise<Courses.Summary[]>;
  get(course: string): Promise<Courses.Course>;
  update(course: string, update: Courses.Update): Promise<Courses.Course>;
  createKey(course: string): Promise<Courses.KeyCreated>;
  revokeKey(course: string, student: string): Promise<Courses.Usage>;
  usage(course: string): Promise<Courses.Usage>;
  jobs(course: string): Promise<Courses.Job[]>;
  datasetFiles(course: string, path?: string): Promise<Courses.DatasetList>;
  datasetContent(course: string, path: string): Promise<Blob>;
  /** The endpoints the user may see (the model keeps their own). */
  endpoints(): Promise<Courses.Endpoint[]>;
  tiers(): Promise<Courses.Tier[]>;
  /** The job profiles the user may submit with (the admin's, and their courses'). */
  profiles(): Promise<Courses.Profile[]>;
  /** The gateway's base URL (`…/v1`). */
  gatewayUrl(): Promise<string>;
}

export class CourseApi implements ICourseApi {
  constructor(private readonly _client: IBridgeClient) {}

  whoami(): Promise<{ name: string }> {
    return this._client.whoami();
  }

  async list(): Promise<Courses.Summary[]> {
    const list = await this._client.request(
      'GET',
      Routes.courses,
      CourseListSchema
    );
    return list.courses;
  }

  get(course: string): Promise<Courses.Course> {
    return this._client.request('GET', Routes.course(course), CourseSchema);
  }

  update(course: string, update: Courses.Update): Promise<Courses.Course> {
    return this._client.request('PUT', Routes.course(course), CourseSchema, {
      body: update
    });
  }

  createKey(course: string): Promise<Courses.KeyCreated> {
    return this._client.request(
      'POST',
      Routes.courseEndpointKey(course),
      CourseKeyCreatedSchema
    );
  }

  revokeKey(course: string, student: string): Promise<Courses.Usage> {
    return this._client.request(
      'DELETE',
      Routes.courseStudentKey(course, student),
      CourseUsageSchema
    );
  }

  usage(course: string): Promise<Courses.Usage> {
    return this._client.request(
      'GET',
      Routes.courseUsage(course),
      CourseUsageSchema
    );
  }

  async jobs(course: string): Promise<Courses.Job[]> {
    const list = await this._client.request(
      'GET',
      Routes.courseJobs(course),
      CourseJobListSchema
    );
    return list.jobs;
  }

  datasetFiles(course: string, path = ''): Promise<Courses.DatasetList> {
    return this._client.request(
      'GET',
      Routes.courseDatasetFiles(course),
      CourseDatasetListSchema,
      { query: { path } }
    );
  }

  async datasetContent(course: string, path: string): Promise<Blob> {
    const response = await this._client.fetchRaw(
      'GET',
      Routes.courseDatasetContent(course),
      { query: { path } }
    );
    return response.blob();
  }

  async endpoints(): Promise<Courses.Endpoint[]> {
    const list = await this._client.request(
      'GET',
      Routes.endpoints,
      EndpointListSchema
    );
    return list.endpoints;
  }

  async tiers(): Promise<Courses.Tier[]> {
    const list = await this._client.request(
      'GET',
      Routes.tiers,
      TierListSchema
    );
    return list.tiers;
  }

  async profiles(): Promise<Courses.Profile[]> {
    const list = await this._client.request(
      'GET',
      Routes.profiles,
      ProfileListSchema
    );
    return list.profiles;
  }

  async gatewayUrl(): Promise<string> {
    const catalog = await this._client.request(
      'GET',
      Routes.modelCatalog,
      ModelCatalogSchema
    );
    return catalog.gatewayUrl;
  }
}
