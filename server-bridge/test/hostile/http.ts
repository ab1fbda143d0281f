/**
 * Raw HTTP for the hostile-input suite: `fetch` normalises URLs (it resolves `..` and
 * `%2e%2e` segments before sending), so every hostile request goes through node:http
 * with the path exactly as written. Also the checks every answer must pass.
 */
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { resolve } from 'node:path';
import { ErrorBodySchema } from '../../src/contract';

/** The bridge as the hub's proxy serves it, and the bridge's own listener. */
export const PROXY = { host: '127.0.0.1', port: 8000 };
export const DIRECT = { host: '127.0.0.1', port: 8765 };
export const BASE_PATH = '/services/hpc-bridge';

export interface IRawRequest {
  method: string;
  /** Sent as is: no normalisation, no encoding. */
  path: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
  target?: { host: string; port: number };
  timeoutMs?: number;
  /** For streams (SSE, followed logs): keep what arrived in this time, then hang up. */
  streamMs?: number;
}

export interface IRawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request on its own connection; resolves with the whole answer. */
export function raw(req: IRawRequest): Promise<IRawResponse> {
  const target = req.target ?? PROXY;
  return new Promise((resolvePromise, reject) => {
    const r = httpRequest(
      {
        host: target.host,
        port: target.port,
        method: req.method,
        path: req.path,
        headers: {
          ...(req.body === undefined
            ? {}
            : { 'content-length': Buffer.byteLength(req.body) }),
          ...req.headers,
          connection: 'close'
        },
        agent: false,
        insecureHTTPParser: false
      },
      res => {
        const chunks: Buffer[] = [];
        let done = false;
        const finish = (): void => {
          if (!done) {
            done = true;
            resolvePromise({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(chunks).toString('utf8')
            });
          }
        };
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', finish);
        res.on('error', e => (done ? undefined : reject(e)));
        if (req.streamMs !== undefined) {
          setTimeout(() => {
            finish();
            r.destroy();
          }, req.streamMs).unref();
        }
      }
    );
    r.setTimeout(req.timeoutMs ?? 60_000, () =>
      r.destroy(new Error(`${req.method} ${req.path}: no answer in time`))
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

/** `Authorization` for a hub token, or none. */
export const authHeader = (token: string | undefined): OutgoingHttpHeaders =>
  token === undefined ? {} : { authorization: `token ${token}` };

const REPO_ROOT = resolve(__dirname, '..', '..', '..');

/** Signs of an internal leak: a JS stack frame, the bridge's source or install paths. */
const LEAKS: readonly RegExp[] = [
  /\bat (?:async )?[\w$.<>[\]]+ \((?:node:|\/|file:)/,
  /\n\s+at [^\n]+:\d+:\d+/,
  /\bnode:internal\//,
  /server-bridge\/(?:src|lib)\//,
  /\/node_modules\//,
  new RegExp(REPO_ROOT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
  /\b(?:TypeError|ReferenceError|SyntaxError|RangeError): /,
  /SQLITE_[A-Z]+/
];

/** The first leak pattern found in TEXT, or null. */
export function leakIn(text: string): string | null {
  for (const re of LEAKS) {
    const m = re.exec(text);
    if (m !== null) {
      return `${re} matched ${JSON.stringify(m[0])}`;
    }
  }
  return null;
}

/**
 * Problems with an answer, empty when it is fine: no 5xx, the error shape on every
 * 4xx the bridge wrote, no stack trace or source path anywhere.
 */
export function problemsOf(res: IRawResponse): string[] {
  const problems: string[] = [];
  if (res.status >= 500 || res.status < 100) {
    problems.push(`status ${res.status}`);
  }
  if (res.status >= 400) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.text);
    } catch {
      parsed = undefined;
    }
    if (!ErrorBodySchema.safeParse(parsed).success) {
      problems.push(`not the error shape: ${res.text.slice(0, 300)}`);
    }
  }
  const leak = leakIn(res.text) ?? leakIn(JSON.stringify(res.headers));
  if (leak !== null) {
    problems.push(`leak: ${leak}`);
  }
  return problems;
}

/** Throws with the request and the answer when `problemsOf` finds anything. */
export function expectSound(req: IRawRequest, res: IRawResponse): void {
  const problems = problemsOf(res);
  if (problems.length > 0) {
    throw new Error(
      `${req.method} ${req.path.slice(0, 500)}${
        req.body === undefined
          ? ''
          : `\nbody: ${req.body.toString().slice(0, 500)}`
      }\n→ ${res.status}: ${problems.join('; ')}\n${res.text.slice(0, 1000)}`
    );
  }
}

/** The error code of an error answer (after `expectSound`). */
export function errorCode(res: IRawResponse): string {
  return (JSON.parse(res.text) as { error: { code: string } }).error.code;
}

/** `GET …/api/v1/version` answers 200 through the proxy and directly. */
export async function bridgeHealthy(): Promise<boolean> {
  const results = await Promise.all(
    [PROXY, DIRECT].map(target =>
      raw({
        method: 'GET',
        path: `${BASE_PATH}/api/v1/version`,
        target,
        timeoutMs: 20_000
      }).then(
        r => r.status === 200,
        () => false
      )
    )
  );
  return results.every(Boolean);
}
