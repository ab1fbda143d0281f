import {
  type Job,
  type JobEstimate,
  JobEstimateSchema,
  type JobList,
  type JobListQuery,
  JobListSchema,
  JobSchema,
  type JobSubmit,
  type NotebookContent,
  NotebookContentSchema,
  Routes,
  type SshCredential,
  SshCredentialSchema
} from '@hpc-bridge/server/contract';
import type { Bridge } from '../tokens';
import type { BridgeTransport } from '../transport/transport';

/** The job routes of the bridge, typed by the contract. */
export class JobsApi {
  constructor(private readonly _transport: JobsApi.ITransport) {}

  submitJob(request: JobSubmit): Promise<Job> {
    return this._transport.request('POST', Routes.jobs, JobSchema, {
      body: request
    });
  }

  estimate(request: JobSubmit): Promise<JobEstimate> {
    return this._transport.request(
      'POST',
      Routes.jobsEstimate,
      JobEstimateSchema,
      { body: request }
    );
  }

  listJobs(query: JobListQuery = {}): Promise<JobList> {
    return this._transport.request('GET', Routes.jobs, JobListSchema, {
      query: { ...query }
    });
  }

  getJob(id: string): Promise<Job> {
    return this._transport.request('GET', Routes.job(id), JobSchema, {});
  }

  jobAction(id: string, action: Bridge.JobAction): Promise<Job> {
    return this._transport.request(
      'POST',
      Routes.jobAction(id, action),
      JobSchema,
      { body: {} }
    );
  }

  getOutput(id: string, element = 0): Promise<NotebookContent> {
    return this._transport.request(
      'GET',
      Routes.jobOutput(id),
      NotebookContentSchema,
      { query: { element: String(element) } }
    );
  }

  sshCredential(cluster?: string): Promise<SshCredential> {
    return this._transport.request(
      'GET',
      Routes.sshCredential,
      SshCredentialSchema,
      { query: cluster ? { cluster } : {} }
    );
  }

  async *logStream(
    id: string,
    options: Bridge.ILogOptions = {}
  ): AsyncGenerator<string, void, undefined> {
    const response = await this._transport.open(Routes.jobLog(id), {
      query: {
        stream: options.stream ?? 'stdout',
        element: String(options.element ?? 0),
        ...(options.follow ? { follow: '1' } : {})
      },
      accept: 'text/plain',
      signal: options.signal
    });
    const body = response.body;
    if (!body) {
      const text = await response.text();
      if (text) {
        yield text;
      }
      return;
    }
    const reader = body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          break;
        }
        const text = decoder.decode(value, { stream: true });
        if (text) {
          yield text;
        }
      }
      const rest = decoder.decode();
      if (rest) {
        yield rest;
      }
    } finally {
      reader.releaseLock();
    }
  }
}

export namespace JobsApi {
  /** What the job routes need of the transport. */
  export type ITransport = Pick<BridgeTransport, 'request' | 'open'>;
}
