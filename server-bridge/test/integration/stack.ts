/**
 * Access to the real stack started by ./stack/up: the hub's REST API (with the
 * token-only `stack-admin` service), user logins, and the bridge behind the proxy.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import pino from 'pino';
import { SshConnection } from '../../src/adapters/ssh/client';
import { parseOpenSshPublicKey } from '../../src/adapters/ssh/host-key';
import { decryptSecret } from '../../src/credentials/crypto';
import { openStore, type Store } from '../../src/store';
import {
  JobSchema,
  Routes,
  TERMINAL_JOB_STATES,
  TriggerRunListSchema,
  type Job,
  type NotebookContent,
  type TriggerRun
} from '../../src/contract';

export const STACK_DIR =
  process.env.STACK_DIR ?? resolve(__dirname, '..', '..', '..', '.stack');
export const HUB_URL = process.env.HUB_URL ?? 'http://127.0.0.1:8000';
export const BRIDGE_URL = `${HUB_URL}/services/hpc-bridge`;
export const DEMO_PASSWORD = 'hpc-demo';

const adminToken = (): string =>
  readFileSync(join(STACK_DIR, 'admin.token'), 'utf8').trim();

export async function hubApi(
  path: string,
  init: RequestInit = {}
): Promise<Response> {
  const request = (): Promise<Response> =>
    fetch(`${HUB_URL}/hub/api${path}`, {
      ...init,
      headers: {
        Authorization: `token ${adminToken()}`,
        'Content-Type': 'application/json',
        ...((init.headers as Record<string, string> | undefined) ?? {})
      }
    });
  return resendingDropped(request);
}

/**
 * A kept-alive socket the proxy closes while the test's event loop is busy (compiling the
 * next test file) fails the next request with "other side closed" although nothing reached
 * the server; sending it again on a fresh socket is safe. fetch's errors come from Node's
 * realm, not the test's, so they are recognised by name, never by `instanceof`.
 */
async function resendingDropped(
  request: () => Promise<Response>
): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (err) {
      const dropped = (err as Error | undefined)?.name === 'TypeError';
      if (!dropped || attempt >= 3) {
        throw err;
      }
      await new Promise(resolve => setTimeout(resolve, 200 * attempt));
    }
  }
}

/** A hub API token of USER, created through the standard hub API. */
export async function createUserToken(
  user: string,
  scopes?: string[]
): Promise<string> {
  const res = await hubApi(`/users/${user}/tokens`, {
    method: 'POST',
    body: JSON.stringify({
      note: 'hpc-bridge integration test',
      expires_in: 900,
      ...(scopes ? { scopes } : {})
    })
  });
  if (res.status !== 201 && res.status !== 200) {
    throw new Error(`token for ${user}: ${res.status} ${await res.text()}`);
  }
  const body = (await res.json()) as { token: string };
  return body.token;
}

/** Calls the bridge through the hub's proxy, as a panel or script would. */
export async function bridge(
  path: string,
  token?: string,
  init: RequestInit = {}
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = {
    ...((init.headers as Record<string, string>) ?? {})
  };
  if (token !== undefined) {
    headers.Authorization = `token ${token}`;
  }
  const send = () => fetch(`${BRIDGE_URL}${path}`, { ...init, headers });
  const idempotent = ['GET', 'HEAD', undefined].includes(init.method);
  const res = idempotent ? await resendingDropped(send) : await send();
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the assertion message
  }
  return { status: res.status, body };
}

/** METHOD on the bridge with BODY (if any) as JSON. */
export function send(
  token: string,
  method: string,
  path: string,
  body?: unknown
): Promise<{ status: number; body: unknown }> {
  return bridge(path, token, {
    method,
    ...(body === undefined
      ? {}
      : {
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(body)
        })
  });
}

const sleep = (ms: number): Promise<void> =>
  new Promise(resolve => setTimeout(resolve, ms));

// ---------------------------------------------------------------- tiers and jobs

/** Writes TEXT to PATH on TIER (replacing what is there); throws unless it is stored. */
export async function put(
  token: string,
  tier: string,
  path: string,
  text: string
): Promise<void> {
  const res = await bridge(
    `${Routes.tierContent(tier)}?path=${encodeURIComponent(path)}&overwrite=true`,
    token,
    {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: text
    }
  );
  if (res.status !== 201) {
    throw new Error(
      `PUT ${tier}:${path}: ${res.status} ${JSON.stringify(res.body)}`
    );
  }
}

/** The text of PATH on TIER, with the status of the answer. */
export async function content(
  token: string,
  tier: string,
  path: string
): Promise<{ status: number; text: string }> {
  const res = await fetch(
    `${BRIDGE_URL}${Routes.tierContent(tier)}?path=${encodeURIComponent(path)}`,
    { headers: { Authorization: `token ${token}` } }
  );
  return { status: res.status, text: await res.text() };
}

/** Polls until the job has ended and none of its outputs waits for its stage-out. */
export async function staged(token: string, id: string): Promise<Job> {
  const deadline = Date.now() + 150_000;
  for (;;) {
    const job = JobSchema.parse((await bridge(Routes.job(id), token)).body);
    if (
      TERMINAL_JOB_STATES.includes(job.state) &&
      (job.outputs ?? []).every(o => o.stageOut !== 'pending')
    ) {
      return job;
    }
    if (Date.now() > deadline) {
      throw new Error(`job ${id} not staged out: ${JSON.stringify(job)}`);
    }
    await sleep(500);
  }
}

// ---------------------------------------------------------------- triggers

/** The trigger's runs, newest first. */
export async function runsOf(token: string, id: string): Promise<TriggerRun[]> {
  const res = await bridge(Routes.triggerRuns(id), token);
  if (res.status !== 200) {
    throw new Error(`runs of ${id}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return TriggerRunListSchema.parse(res.body).runs;
}

/** Polls the trigger's runs until `done` holds for them; throws WHAT when it does not. */
export async function runsUntil(
  token: string,
  id: string,
  what: string,
  done: (runs: TriggerRun[]) => boolean,
  timeoutMs = 180_000
): Promise<TriggerRun[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const runs = await runsOf(token, id);
    if (done(runs)) {
      return runs;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: runs are ${JSON.stringify(runs)}`);
    }
    await sleep(1000);
  }
}

/** A minimal cookie-keeping browser for the hub's login and OAuth redirects. */
export class HubBrowser {
  private cookies = new Map<string, string>();

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    let current = new URL(url, HUB_URL).toString();
    let options: RequestInit = init;
    for (let hop = 0; hop < 15; hop++) {
      const res = await fetch(current, {
        ...options,
        redirect: 'manual',
        headers: {
          ...((options.headers as Record<string, string> | undefined) ?? {}),
          Cookie: this.cookieHeader()
        }
      });
      this.keepCookies(res);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) {
        return res;
      }
      current = new URL(location, current).toString();
      options = {};
    }
    throw new Error(`too many redirects from ${url}`);
  }

  async login(user: string, password = DEMO_PASSWORD): Promise<void> {
    const res = await this.request('/hub/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: user, password }).toString()
    });
    if (!this.cookieHeader().includes('jupyterhub-session-id')) {
      throw new Error(`login of ${user} failed: ${res.status}`);
    }
  }

  /** The token JupyterHub puts into USER's lab page config (what the panels send). */
  async pageToken(user: string): Promise<string> {
    await ensureServer(user);
    const res = await this.request(`/user/${user}/lab`);
    const html = await res.text();
    const match = html.match(
      /<script id="jupyter-config-data" type="application\/json">([\s\S]*?)<\/script>/
    );
    if (!match) {
      throw new Error(`no page config at /user/${user}/lab (${res.status})`);
    }
    const config = JSON.parse(match[1]) as { token?: string };
    if (!config.token) {
      throw new Error(`the page config of ${user} carries no token`);
    }
    return config.token;
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keepCookies(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '""') {
        this.cookies.delete(name);
      } else {
        this.cookies.set(name, value);
      }
    }
  }
}

/** Starts USER's single-user server through the hub API and waits until it is ready. */
export async function ensureServer(user: string): Promise<void> {
  const start = await hubApi(`/users/${user}/server`, { method: 'POST' });
  if (![201, 202, 400].includes(start.status)) {
    throw new Error(`start ${user}: ${start.status} ${await start.text()}`);
  }
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const res = await hubApi(`/users/${user}`);
    const model = (await res.json()) as {
      servers?: Record<string, { ready: boolean }>;
    };
    if (model.servers?.['']?.ready) {
      return;
    }
    await new Promise(r => setTimeout(r, 500));
  }
  throw new Error(`the server of ${user} did not become ready`);
}

/**
 * `read()` again, `everyMs` apart, until `done` holds of its value (at most `timeoutMs`);
 * the last value, whether `done` holds of it or not. For what another bridge replica
 * writes a few seconds late (usage per minute, a chat's answer kept when its stream
 * ends), and any other state a test waits for.
 */
export async function settled<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 15_000,
  everyMs = 500
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await sleep(everyMs);
    value = await read();
  }
  return value;
}

/**
 * The running bridge's store, as its config names it (the SQLite file, or PostgreSQL with
 * `./stack/up --with-postgres`). Close it after use.
 */
export function bridgeStore(): Store {
  const config = parse(
    readFileSync(join(STACK_DIR, 'bridge', 'config.yaml'), 'utf8')
  ) as {
    store: { path?: string; url?: string; password?: { file: string } };
  };
  const { path, url, password } = config.store;
  return openStore({
    path,
    url,
    password:
      password === undefined
        ? undefined
        : readFileSync(password.file, 'utf8').trim()
  });
}

/** Alice's bridge key for the demo cluster, as the running bridge stored it. */
export function aliceConnection(): SshConnection {
  const store = bridgeStore();
  const row = store.db
    .prepare(
      "SELECT private_key FROM credentials WHERE \"user\" = 'alice' AND cluster = 'demo'"
    )
    .get() as { private_key: string };
  store.close();
  const secretKey = readFileSync(
    join(STACK_DIR, 'bridge', 'secret.key'),
    'utf8'
  ).trim();
  return new SshConnection(
    {
      host: '127.0.0.1',
      port: 2222,
      username: 'alice',
      privateKey: decryptSecret(
        secretKey,
        row.private_key,
        'ssh-key\0alice\0demo'
      ),
      hostKey: parseOpenSshPublicKey(
        readFileSync(join(STACK_DIR, 'ssh', 'ssh_host_ed25519_key.pub'), 'utf8')
      ),
      connectTimeoutMs: 10_000,
      idleCloseMs: 60_000
    },
    pino({ level: 'silent' }),
    'alice@demo'
  );
}

// ---------------------------------------------------------------- notebooks

type Cell = NotebookContent['cells'][number];

/** A code cell (tagged, e.g. `parameters`). */
export const code = (source: string, tags: string[] = []): Cell => ({
  cell_type: 'code',
  source,
  metadata: tags.length > 0 ? { tags } : {},
  outputs: [],
  execution_count: null
});

/** A Python 3 notebook of these cells (nbformat 4.5). */
export const notebook = (...cells: Cell[]): NotebookContent => ({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {
    kernelspec: {
      name: 'python3',
      display_name: 'Python 3',
      language: 'python'
    }
  },
  cells
});
