import type { TranslationBundle } from '@jupyterlab/translation';
import type { BridgeClient } from '../core/client';

/** A translation bundle that only substitutes `%1`, `%2`, … */
export function identityTrans(): TranslationBundle {
  const format = (msgid: string, ...args: unknown[]): string =>
    msgid.replace(/%(\d+)/g, (_, n: string) => String(args[Number(n) - 1]));
  const plural = (one: string, many: string, n: number, ...args: unknown[]) =>
    format(n === 1 ? one : many, ...args);
  return {
    __: format,
    gettext: format,
    _n: plural,
    ngettext: plural,
    _p: (_ctx: string, msgid: string, ...args: unknown[]) =>
      format(msgid, ...args),
    pgettext: (_ctx: string, msgid: string, ...args: unknown[]) =>
      format(msgid, ...args),
    _np: (
      _ctx: string,
      one: string,
      many: string,
      n: number,
      ...args: unknown[]
    ) => plural(one, many, n, ...args),
    npgettext: (
      _ctx: string,
      one: string,
      many: string,
      n: number,
      ...args: unknown[]
    ) => plural(one, many, n, ...args),
    dcnpgettext: (
      _domain: string,
      _ctx: string,
      one: string,
      many: string,
      n: number,
      ...args: unknown[]
    ) => plural(one, many, n, ...args)
  };
}

export interface IRecordedRequest {
  url: string;
  init: RequestInit;
}

/**
 * A `fetch` that answers from a queue of responses (or errors) and records
 * the requests.
 */
export function queuedFetch(
  answers: Array<Response | Error | (() => Promise<Response>)>
): { fetch: BridgeClient.FetchFunction; requests: IRecordedRequest[] } {
  const requests: IRecordedRequest[] = [];
  const fetch: BridgeClient.FetchFunction = async (url, init) => {
    requests.push({ url, init });
    const answer = answers.shift();
    if (answer === undefined) {
      throw new Error(`unexpected request to ${url}`);
    }
    if (answer instanceof Error) {
      throw answer;
    }
    return typeof answer === 'function' ? answer() : answer;
  };
  return { fetch, requests };
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' }
  });
}

export const CLUSTERS = {
  clusters: [
    {
      name: 'demo',
      title: 'Demo cluster',
      status: 'ok',
      partitions: [
        {
          name: 'cpu',
          default: true,
          state: 'up',
          nodes: { total: 1, idle: 1 },
          cpus: { total: 2, idle: 2 },
          gpus: { total: 0, idle: 0 },
          maxTimeMinutes: null
        },
        {
          name: 'gpu',
          default: false,
          state: 'up',
          nodes: { total: 1, idle: 0 },
          cpus: { total: 2, idle: 1 },
          gpus: { total: 2, idle: 2 },
          maxTimeMinutes: 60
        }
      ],
      updatedAt: '2026-11-25T10:00:00.000Z'
    }
  ]
};

/** A streaming response whose body the test writes chunk by chunk. */
export function streamingResponse(
  contentType = 'text/event-stream',
  headers: Record<string, string> = {}
): {
  response: Response;
  push: (text: string) => void;
  close: () => void;
} {
  let controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    }
  });
  const encoder = new TextEncoder();
  return {
    response: new Response(body, {
      status: 200,
      headers: { 'Content-Type': contentType, ...headers }
    }),
    push: text => controller?.enqueue(encoder.encode(text)),
    close: () => {
      try {
        controller?.close();
      } catch {
        // already closed
      }
    }
  };
}

/** Resolves when `check` is true (polled), or fails after `ms`. */
export async function waitFor(check: () => boolean, ms = 2000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) {
      throw new Error('condition not met in time');
    }
    await new Promise(resolve => setTimeout(resolve, 5));
  }
}

/** A job as the bridge sends it. */
export function job(overrides: Record<string, unknown> = {}): {
  [key: string]: unknown;
} {
  const element = {
    index: 0,
    slurmId: '12',
    state: 'RUNNING',
    reason: null,
    node: 'node1',
    exitCode: null,
    elapsedSeconds: 5,
    maxRssMB: null,
    progress: { cell: 7, of: 20 },
    parameters: { alpha: 0.5 },
    startedAt: '2026-11-25T10:00:05.000Z',
    endedAt: null
  };
  return {
    id: 'j1',
    owner: 'bob',
    cluster: 'demo',
    name: 'analysis',
    notebookPath: 'work/analysis.ipynb',
    profile: 'cpu-small',
    partition: 'cpu',
    resources: { timeMinutes: 10, cpus: 1, memoryMB: 500, gpus: 0 },
    state: 'RUNNING',
    slurmId: '12',
    isArray: false,
    elements: [element],
    queuePosition: null,
    expectedStart: null,
    submittedAt: '2026-11-25T10:00:00.000Z',
    updatedAt: '2026-11-25T10:00:05.000Z',
    resubmittedFrom: null,
    ...overrides
  };
}
