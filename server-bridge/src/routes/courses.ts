/**
 * Course mode: settings (instructors: endpoint, dataset, job profile), a key per student
 * for the shared endpoint, per-student usage (tokens, course jobs), the members' job
 * states, and the read-only dataset.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { policy } from '../auth/policy';
import { userOf } from '../auth/plugin';
import {
  API_PREFIX,
  CourseDatasetContentQuerySchema,
  CourseDatasetListQuerySchema,
  CourseDatasetListSchema,
  CourseJobListSchema,
  CourseKeyCreatedSchema,
  CourseListSchema,
  CourseParamsSchema,
  CourseSchema,
  CourseStudentParamsSchema,
  CourseUpdateSchema,
  CourseUsageSchema,
  ErrorBodySchema,
  Routes
} from '../contract';
import type { CourseService } from '../courses/service';
import { authErrorResponses, SECURITY, type IRouteContext } from './context';
import { parseRange, sendContent } from './storage-http';

export interface ICoursesContext extends IRouteContext {
  courses: CourseService;
}

const COURSE = `${API_PREFIX}/courses/:course`;
const errors = {
  ...authErrorResponses,
  404: ErrorBodySchema,
  409: ErrorBodySchema
} as const;

export const coursesRoutes: FastifyPluginAsyncZod<ICoursesContext> = async (
  app,
  ctx
) => {
  const { courses } = ctx;

  app.get(
    Routes.courses,
    {
      config: policy.user(),
      schema: {
        summary: 'The courses I teach or take',
        description:
          "Instructors: every group G they are an instructor of (G-instructors). Students: groups they are members of that have course settings, or an instructors' group (then `configured` is false: not set up yet).",
        tags: ['courses'],
        security: SECURITY,
        response: { 200: CourseListSchema, ...authErrorResponses }
      }
    },
    async request => courses.list(userOf(request))
  );

  app.get(
    COURSE,
    {
      config: policy.course('member', 'read'),
      schema: {
        summary:
          'A course: its shared endpoint and dataset (students: their key)',
        tags: ['courses'],
        security: SECURITY,
        params: CourseParamsSchema,
        response: { 200: CourseSchema, ...errors }
      }
    },
    async request => courses.view(userOf(request), request.params.course)
  );

  app.put(
    COURSE,
    {
      config: policy.course('instructor'),
      schema: {
        summary: "Change a course's settings (instructors)",
        description:
          'The endpoint must be one of yours; each student then gets their own key with `tokenBudget` tokens. The dataset is a folder of a tier you can read; students read it (never write) through the course routes. A changed budget applies to the keys students hold; another endpoint revokes them. The job profile is one of the admin profiles (`baseProfile`), optionally in a SLURM reservation, with per-student limits (queued or running jobs, GPU-hours): students see it in `GET /profiles` as `course:COURSE` and a submit over a limit is refused with 429 `course_limit`.',
        tags: ['courses'],
        security: SECURITY,
        params: CourseParamsSchema,
        body: CourseUpdateSchema,
        response: { 200: CourseSchema, ...errors }
      }
    },
    async request =>
      courses.update(userOf(request), request.params.course, request.body)
  );

  app.post(
    `${COURSE}/endpoint-key`,
    {
      config: policy.course('student'),
      schema: {
        summary: 'Create or rotate my key for the course endpoint (shown once)',
        description:
          'An older key of yours is revoked. The budget is per student: the new key gets what your earlier keys left of it.',
        tags: ['courses'],
        security: SECURITY,
        params: CourseParamsSchema,
        response: { 201: CourseKeyCreatedSchema, ...errors }
      }
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(courses.createKey(userOf(request), request.params.course))
  );

  app.delete(
    `${COURSE}/endpoint-keys/:student`,
    {
      config: policy.course('instructor'),
      schema: {
        summary: "Revoke a student's course key (instructors)",
        tags: ['courses'],
        security: SECURITY,
        params: CourseStudentParamsSchema,
        response: { 200: CourseUsageSchema, ...errors }
      }
    },
    async request =>
      courses.revokeKey(
        userOf(request),
        request.params.course,
        request.params.student
      )
  );

  app.get(
    `${COURSE}/usage`,
    {
      config: policy.course('instructor', 'read'),
      schema: {
        summary:
          'Requests, tokens, budget left and course jobs against the limits per student (instructors)',
        tags: ['courses'],
        security: SECURITY,
        params: CourseParamsSchema,
        response: { 200: CourseUsageSchema, ...errors }
      }
    },
    async request => courses.usageWithMembers(request.params.course)
  );

  app.get(
    `${COURSE}/jobs`,
    {
      config: policy.course('instructor', 'read'),
      schema: {
        summary: "The course members' job states (instructors)",
        description:
          "State, profile and times only; a job's notebook, outputs and logs stay with its owner (and admins).",
        tags: ['courses'],
        security: SECURITY,
        params: CourseParamsSchema,
        response: { 200: CourseJobListSchema, ...errors }
      }
    },
    async request => courses.jobs(request.params.course)
  );

  app.get(
    `${COURSE}/dataset/files`,
    {
      config: policy.course('member'),
      schema: {
        summary: "A folder of the course's dataset (read-only)",
        tags: ['courses'],
        security: SECURITY,
        params: CourseParamsSchema,
        querystring: CourseDatasetListQuerySchema,
        response: { 200: CourseDatasetListSchema, ...errors }
      }
    },
    async request =>
      courses.datasetList(
        userOf(request),
        request.params.course,
        request.query.path
      )
  );

  app.get(
    `${COURSE}/dataset/content`,
    {
      config: policy.course('member'),
      schema: {
        summary: "A file of the course's dataset (streamed; Range → 206)",
        tags: ['courses'],
        security: SECURITY,
        params: CourseParamsSchema,
        querystring: CourseDatasetContentQuerySchema,
        produces: ['application/octet-stream'],
        response: { ...errors, 416: ErrorBodySchema }
      }
    },
    async (request, reply) => {
      const header = request.headers.range;
      const content = await courses.datasetRead(
        userOf(request),
        request.params.course,
        request.query.path,
        size => parseRange(header, size)
      );
      return sendContent(reply, content, request.query.path, null);
    }
  );
};
