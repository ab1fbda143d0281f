import {
  JobEstimateSchema,
  JobListSchema,
  JobSchema,
  NotebookContentSchema,
  Routes,
  SshCredentialSchema
} from '@hpc-bridge/server/contract';
import type { Bridge } from '../tokens';
import type { BridgeTransport } from '../transport/transport';

/** The job routes of the bridge, typed by the contract. */
export class JobsApi {
  constructor(private readonly _transport: JobsApi.ITransport) {}

  submitJob(request: Bridge.JobSubmit): Promise<Bridge.Job> {
    return this._transport.request('POST', Routes.jobs, JobSchema, {
      body: request
    });
  }

  estimate(request: Bridge.JobSubmit): Promise<Bridge.JobEstimate> {
    return this._transport.request(
      'POST',
      Routes.jobsEstimate,
      JobEstimateSchema,
      { body: request }
    );
  }

  listJobs(query: Bridge.JobListQuery = {}): Promise<Bridge.JobList> {
    return this._transport.request('GET', Routes.jobs, JobListSchema, {
      query: { ...query }
    });
  }

  getJob(id: string): Promise<Bridge.Job> {
    return this._transport.request('GET', Routes.job(id), JobSchema, {});
  }

  jobAction(id: string, action: Bridge.JobAction): Promise<Bridge.Job> {
    return this._transport.request(
      'POST',
      Routes.jobAction(id, action),
      JobSchema,
      { body: {} }
    );
  }

  getOutput(id: string, element = 0): Promise<Bridge.NotebookContent> {
    return this._transport.request(
      'GET',
      Routes.jobOutput(id),
      NotebookContentSchema,
      { query: { element: String(element) } }
    );
  }

  sshCredential(cluster?: string): Promise<Bridge.SshCredential> {
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
