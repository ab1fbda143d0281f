/**
 * Property-based fuzzing of every operation of the OpenAPI document the stack's bridge
 * serves, through the hub's proxy: path parameters, query strings, headers and bodies
 * generated from the document's own schemas, valid-shaped values mixed with hostile ones.
 * Every answer: no 5xx, the error shape on every 4xx, no stack trace or source path.
 * Whatever a request created (jobs, endpoints, links, uploads, files) is removed again.
 *
 * Seeded: HOSTILE_SEED=N replays a run, HOSTILE_RUNS=N sets the runs per operation.
 */
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import {
  TierItemPathSchema,
  type Job,
  type NotebookContent
} from '../../src/contract';
import { createUserToken } from '../integration/stack';
import {
  BASE_PATH,
  DIRECT,
  authHeader,
  bridgeHealthy,
  expectSound,
  raw,
  type IRawRequest,
  type IRawResponse
} from './http';
import {
  ODD_STRINGS,
  TRAVERSAL_STRINGS,
  canaryPath,
  shellPayloads
} from './payloads';
import {
  anyArb,
  hostileValue,
  type IGenOptions,
  type JsonSchema
} from './schema-arbitrary';

jest.setTimeout(240_000);

const SEED = Number(process.env.HOSTILE_SEED ?? Date.now() % 2 ** 31);
const RUNS = Number(process.env.HOSTILE_RUNS ?? 12);
const CANARY = canaryPath('fuzz');
const FUZZ_DIR = `hostile-fuzz-${SEED}`;
const TIERS = ['scratch', 'project', 'archive', 'outreach', 'sensitive'];
/** Tiers whose root lists groups: a path starts with one of the user's groups. */
const GROUP_TIERS = new Set(['project', 'sensitive']);
const GROUP = 'ml101';

interface IOperation {
  method: string;
  path: string;
  parameters: {
    in: 'path' | 'query' | 'header';
    name: string;
    required?: boolean;
    schema: JsonSchema;
  }[];
  body?: JsonSchema;
  /** application/octet-stream body (uploads). */
  rawBody: boolean;
  adminOnly: boolean;
}

interface IDocument {
  paths: Record<
    string,
    Record<
      string,
      {
        description?: string;
        parameters?: IOperation['parameters'];
        requestBody?: { content: Record<string, { schema?: JsonSchema }> };
      }
    >
  >;
  components?: { schemas?: Record<string, JsonSchema> };
}

let alice: string;
let bob: string;
let admin: string;
let doc: IDocument;
let ownJob: Job;
const created = {
  jobs: new Set<string>(),
  endpoints: new Set<string>(),
  links: new Set<string>(),
  uploads: new Set<string>()
};

const HOSTILE_STRINGS = [
  ...shellPayloads(CANARY),
  ...TRAVERSAL_STRINGS,
  ...ODD_STRINGS
];

function operations(): IOperation[] {
  const ops: IOperation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const content = op.requestBody?.content ?? {};
      ops.push({
        method: method.toUpperCase(),
        path,
        parameters: op.parameters ?? [],
        ...(content['application/json']?.schema === undefined
          ? {}
          : { body: content['application/json'].schema }),
        rawBody:
          method === 'put' &&
          (path.endsWith('/content') || path.includes('/parts/')),
        adminOnly: /Access: hub admins/.test(op.description ?? '')
      });
    }
  }
  return ops;
}

/** A path inside the suite's own folder of TIER (valid-shaped), or hostile around it. */
function tierPathArb(tier: string): fc.Arbitrary<unknown> {
  const root = GROUP_TIERS.has(tier) ? `${GROUP}/${FUZZ_DIR}` : FUZZ_DIR;
  const name = fc.stringMatching(/^[A-Za-z0-9._-]{1,24}$/);
  const inside = fc.oneof(
    name.map(n => `${root}/${n}`),
    fc.tuple(name, name).map(([a, b]) => `${root}/${a}/${b}`),
    fc.constantFrom(...HOSTILE_STRINGS).map(h => `${root}/${h}`)
  );
  // Alone, only strings every tier refuses: a valid one would act outside FUZZ_DIR.
  const refused = fc
    .constantFrom(
      ...HOSTILE_STRINGS,
      ...TRAVERSAL_STRINGS.map(t => `${root}/${t}`)
    )
    .filter(s => !TierItemPathSchema.safeParse(s).success);
  return fc.oneof(
    { weight: 3, arbitrary: inside },
    { weight: 2, arbitrary: refused }
  );
}

const NAME = fc.stringMatching(/^[a-z0-9-]{1,12}$/).map(s => `hostile-${s}`);

/** Valid-shaped values by name, for the operation at PATH with TIER chosen. */
function hintsFor(
  op: IOperation,
  tier: string
): (name: string) => fc.Arbitrary<unknown> | undefined {
  const mutatesCourse = op.path.includes('/courses/{course}/endpoint-key');
  return name => {
    switch (name) {
      case 'tier':
      case 'toTier':
        return fc.constantFrom(...TIERS);
      case 'course':
        // Valid names of no course for the key routes: a key of the real course would
        // rotate a student key that other suites hold.
        return mutatesCourse
          ? fc.constantFrom('hostile-no-course', 'zz-hostile')
          : fc.constantFrom(GROUP, 'hostile-no-course');
      case 'path':
      case 'from':
      case 'to':
        return op.path.includes('/tiers/') ? tierPathArb(tier) : undefined;
      case 'profile':
        return fc.constantFrom('cpu-small', 'gpu-1', 'no-such-profile');
      case 'model':
        return fc.constantFrom('tiny-random', 'small-random', 'no-such-model');
      case 'cluster':
        return fc.constantFrom('demo', 'no-such-cluster');
      case 'group':
        return fc.constantFrom(GROUP, 'medical', 'not-my-group');
      case 'name':
        return op.method === 'GET' ? undefined : NAME;
      case 'id':
        return op.path.startsWith(`${BASE_PATH}/api/v1/jobs/`)
          ? fc.constantFrom(ownJob.id, 'nonexistent-job-id')
          : undefined;
      case 'webhookUrl':
        return fc.constantFrom(
          'http://127.0.0.1:9/hook',
          'http://169.254.169.254/latest/meta-data/',
          'http://[::1]:8765/services/hpc-bridge/api/v1/version',
          'https://example.invalid/hook',
          `http://example.invalid/$(touch ${CANARY})`
        );
      default:
        return undefined;
    }
  };
}

function optionsFor(
  op: IOperation,
  tier: string,
  maxString: number
): IGenOptions {
  return {
    components: doc.components?.schemas ?? {},
    hostileStrings: HOSTILE_STRINGS,
    hints: hintsFor(op, tier),
    maxString
  };
}

/** How a value is written into the URL: encoded, raw where HTTP allows, or oddly. */
const ENCODING = fc.constantFrom(
  'component',
  'component',
  'raw',
  'dots',
  'double'
);

/** encodeURIComponent over the UTF-8 bytes (a lone surrogate becomes U+FFFD, no throw). */
function percentEncode(s: string): string {
  return [...Buffer.from(s, 'utf8')]
    .map(b =>
      /[A-Za-z0-9\-_.!~*'()]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`
    )
    .join('');
}

function encode(value: unknown, how: string): string {
  const s = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  switch (how) {
    case 'raw':
      return /^[\x21-\x7e]*$/.test(s) && !/[?#&]/.test(s)
        ? s
        : percentEncode(s);
    case 'dots':
      return percentEncode(s).replace(/\./g, '%2e');
    case 'double':
      return percentEncode(percentEncode(s));
    default:
      return percentEncode(s);
  }
}

const TOKEN = fc.constantFrom(
  'alice',
  'alice',
  'alice',
  'alice',
  'bob',
  'none',
  'bogus'
);

function tokenOf(who: string, op: IOperation): string | undefined {
  switch (who) {
    case 'none':
      return undefined;
    case 'bogus':
      return `$(touch ${CANARY})`;
    case 'bob':
      return bob;
    default:
      return op.adminOnly ? admin : alice;
  }
}

const EXTRA_HEADERS = fc.option(
  fc.constantFrom<Record<string, string>>(
    { range: 'bytes=0-0' },
    { range: 'bytes=-1' },
    { range: 'bytes=999999999999-' },
    { range: 'bytes=5-2' },
    { range: `bytes=$(touch ${CANARY})` },
    { 'x-checksum-sha256': '0'.repeat(64) },
    { 'x-checksum-sha256': `../../$(touch ${CANARY})` },
    { 'content-type': 'text/plain' },
    { 'content-type': 'application/json; charset=utf-16' },
    { 'accept-encoding': 'gzip, br' },
    { 'x-forwarded-for': '127.0.0.1' },
    { cookie: '__proto__=1' }
  )
);

/** One request for OP: its URL, headers and body. */
function requestArb(op: IOperation): fc.Arbitrary<IRawRequest> {
  const tierArb = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...TIERS) },
    { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) }
  );
  return fc.tuple(tierArb, TOKEN).chain(([tier, who]) => {
    const urlOptions = optionsFor(op, tier, 3000);
    const pathParams = op.parameters.filter(p => p.in === 'path');
    const queryParams = op.parameters.filter(p => p.in === 'query');
    const pathArb = fc.tuple(
      ...pathParams.map(p =>
        fc.tuple(
          p.name === 'tier'
            ? fc.constant<unknown>(tier)
            : anyArb(p.schema, urlOptions, p.name),
          ENCODING
        )
      )
    );
    const queryArb = fc.tuple(
      ...queryParams.map(p =>
        fc.tuple(
          p.required === true
            ? anyArb(p.schema, urlOptions, p.name).map(v => [v])
            : fc.option(
                fc.oneof(
                  {
                    weight: 5,
                    arbitrary: anyArb(p.schema, urlOptions, p.name).map(v => [
                      v
                    ])
                  },
                  {
                    weight: 1,
                    arbitrary: fc.array(anyArb(p.schema, urlOptions, p.name), {
                      minLength: 2,
                      maxLength: 3
                    })
                  }
                )
              ),
          ENCODING
        )
      )
    );
    const strayQuery = fc.option(
      fc.constantFrom(
        '__proto__[polluted]=1',
        'constructor[prototype][polluted]=1',
        '__proto__=x',
        '%00=%00',
        'a=1&a=2&a=3'
      )
    );
    const bodyOptions = optionsFor(op, tier, 200_000);
    const bodyArb: fc.Arbitrary<{ body?: string | Buffer; type?: string }> =
      op.body !== undefined
        ? fc.oneof(
            {
              weight: 8,
              arbitrary: anyArb(op.body, bodyOptions).map(v => ({
                body: JSON.stringify(v) ?? 'null',
                type: 'application/json'
              }))
            },
            {
              weight: 1,
              arbitrary: fc
                .constantFrom(
                  '{"a":',
                  '{"__proto__":{"polluted":true}}',
                  '{"constructor":{"prototype":{"polluted":true}}}',
                  '[',
                  '\u0000',
                  '"\ud800"',
                  '1e999999',
                  '{"a":1,"a":2}',
                  '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]'
                )
                .map(body => ({ body, type: 'application/json' }))
            },
            { weight: 1, arbitrary: fc.constant({}) },
            {
              weight: 1,
              arbitrary: hostileValue(bodyOptions).map(v => ({
                body: String(v),
                type: 'text/plain'
              }))
            }
          )
        : op.rawBody
          ? fc.uint8Array({ maxLength: 64 }).map(bytes => ({
              body: Buffer.from(bytes),
              type: 'application/octet-stream'
            }))
          : fc.oneof(
              { weight: 6, arbitrary: fc.constant({}) },
              {
                weight: 1,
                arbitrary: hostileValue(bodyOptions).map(v => ({
                  body: JSON.stringify(v) ?? 'null',
                  type: 'application/json'
                }))
              }
            );
    return fc
      .tuple(pathArb, queryArb, strayQuery, bodyArb, EXTRA_HEADERS)
      .map(([pathValues, queryValues, stray, body, extra]) => {
        let url = op.path;
        pathParams.forEach((p, i) => {
          const [value, how] = pathValues[i];
          url = url.replace(`{${p.name}}`, encode(value, how));
        });
        const query: string[] = [];
        queryParams.forEach((p, i) => {
          const [values, how] = queryValues[i];
          for (const v of values ?? []) {
            query.push(`${encodeURIComponent(p.name)}=${encode(v, how)}`);
          }
        });
        if (stray !== null) {
          query.push(stray);
        }
        if (query.length > 0) {
          url += `?${query.join('&')}`;
        }
        const headers: Record<string, string> = {
          ...authHeader(tokenOf(who, op)),
          ...(body.type === undefined ? {} : { 'content-type': body.type }),
          ...(extra ?? {})
        } as Record<string, string>;
        return {
          method: op.method,
          path: url,
          // The hub's proxy cannot route a malformed escape or one that is no UTF-8
          // (the hub answers it with a 500 page of its own), and a path whose `..`
          // segments climb out of the service's prefix is the hub's, not the bridge's:
          // those go to the bridge's listener directly.
          ...(!decodable(url) || leavesService(url) ? { target: DIRECT } : {}),
          headers,
          ...(body.body === undefined ? {} : { body: body.body }),
          ...(op.path.endsWith('/events') || url.includes('follow=')
            ? { streamMs: 1500 }
            : {})
        };
      });
  });
}

/** Whether the proxy can decode the URL's path: well-formed escapes of UTF-8 only. */
function decodable(url: string): boolean {
  try {
    decodeURIComponent(url.split('?')[0] ?? '');
    return true;
  } catch {
    return false;
  }
}

/** True when the path, with its dot segments resolved as a proxy does, is not the bridge's. */
function leavesService(url: string): boolean {
  return !new URL(url, 'http://hub').pathname.startsWith(`${BASE_PATH}/`);
}

/** fast-check's report with the property's own error (the answer that failed). */
function describeFailure(e: unknown): string {
  const error = e as Error & { cause?: unknown };
  // The answer first: a long counterexample must not push it out of the report.
  const cause =
    error.cause instanceof Error
      ? `${error.cause.message.slice(0, 2000)}\n`
      : '';
  const head = error.message.split('\n').slice(0, 3).join('\n');
  return `${cause}${head.slice(0, 2000)}`;
}

/** Remembers what a successful request created, to remove it at once. */
async function removeCreated(
  op: IOperation,
  req: IRawRequest,
  res: IRawResponse
): Promise<void> {
  if (res.status < 200 || res.status >= 300) {
    return;
  }
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(res.text) as Record<string, unknown>;
  } catch {
    return;
  }
  const api = `${BASE_PATH}/api/v1`;
  const as = { authorization: req.headers?.authorization as string };
  if (
    op.method === 'POST' &&
    (op.path === `${api}/jobs` || op.path.endsWith('/resubmit'))
  ) {
    const id = String(body.id);
    created.jobs.add(id);
    await raw({
      method: 'POST',
      path: `${api}/jobs/${id}/cancel`,
      headers: as
    });
  } else if (op.method === 'POST' && op.path === `${api}/endpoints`) {
    const id = String(body.id);
    created.endpoints.add(id);
    await raw({
      method: 'DELETE',
      path: `${api}/endpoints/${id}`,
      headers: as
    });
  } else if (op.method === 'POST' && op.path.endsWith('/links')) {
    const id = String(body.id);
    created.links.add(id);
    await raw({ method: 'DELETE', path: `${api}/links/${id}`, headers: as });
  } else if (op.method === 'POST' && op.path.endsWith('/uploads')) {
    const tier = /\/tiers\/([^/]+)\//.exec(req.path)?.[1] ?? '';
    const id = String(body.uploadId);
    created.uploads.add(id);
    await raw({
      method: 'DELETE',
      path: `${api}/tiers/${tier}/uploads/${id}`,
      headers: as
    });
  }
}

const NOTEBOOK: NotebookContent = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [
    {
      cell_type: 'code',
      source: 'print("fuzz")',
      metadata: {},
      outputs: [],
      execution_count: null
    } as NotebookContent['cells'][number]
  ]
};

beforeAll(async () => {
  [alice, bob, admin] = await Promise.all([
    createUserToken('alice'),
    createUserToken('bob'),
    createUserToken('admin')
  ]);
  const res = await raw({
    method: 'GET',
    path: `${BASE_PATH}/api/v1/openapi.json`
  });
  expect(res.status).toBe(200);
  doc = JSON.parse(res.text) as IDocument;
  // A job of alice's own, so that job routes get past the owner check now and then.
  const submitted = await raw({
    method: 'POST',
    path: `${BASE_PATH}/api/v1/jobs`,
    headers: { ...authHeader(alice), 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'hostile-fuzz-own',
      notebook: { path: 'hostile/fuzz.ipynb', content: NOTEBOOK },
      profile: 'cpu-small',
      resources: { timeMinutes: 2 }
    })
  });
  expect(submitted.status).toBe(201);
  ownJob = JSON.parse(submitted.text) as Job;
  created.jobs.add(ownJob.id);
  console.log(`hostile fuzz: HOSTILE_SEED=${SEED} HOSTILE_RUNS=${RUNS}`);
});

afterAll(async () => {
  const api = `${BASE_PATH}/api/v1`;
  for (const id of created.jobs) {
    await raw({
      method: 'POST',
      path: `${api}/jobs/${id}/cancel`,
      headers: authHeader(alice)
    });
  }
  for (const id of created.endpoints) {
    await raw({
      method: 'DELETE',
      path: `${api}/endpoints/${id}`,
      headers: authHeader(alice)
    });
  }
  for (const tier of TIERS) {
    const dir = GROUP_TIERS.has(tier) ? `${GROUP}/${FUZZ_DIR}` : FUZZ_DIR;
    await raw({
      method: 'DELETE',
      path: `${api}/tiers/${tier}/files?path=${encodeURIComponent(dir)}`,
      headers: authHeader(alice)
    });
  }
});

describe('every operation of the OpenAPI document, fuzzed', () => {
  test('the document lists the operations of every area', () => {
    const paths = operations().map(op => `${op.method} ${op.path}`);
    expect(paths.length).toBeGreaterThan(50);
    for (const area of [
      'jobs',
      'tiers',
      'endpoints',
      'courses',
      'admin',
      'links'
    ]) {
      expect(paths.some(p => p.includes(`/api/v1/${area}`))).toBe(true);
    }
  });

  test('no 5xx, the error shape on every 4xx, no stack trace or source path', async () => {
    const ops = operations();
    const failures: string[] = [];
    for (const [index, op] of ops.entries()) {
      const creates =
        op.method === 'POST' &&
        /\/(jobs|endpoints|resubmit|uploads|links)$/.test(op.path);
      try {
        await fc.assert(
          fc.asyncProperty(requestArb(op), async req => {
            const res = await raw(req);
            await removeCreated(op, req, res);
            expectSound(req, res);
          }),
          {
            seed: SEED + index,
            numRuns: creates ? Math.max(4, Math.floor(RUNS / 2)) : RUNS,
            endOnFailure: true
          }
        );
      } catch (e) {
        failures.push(
          `${op.method} ${op.path} (HOSTILE_SEED=${SEED}, seed ${SEED + index}):\n${describeFailure(e)}`
        );
      }
    }
    expect(failures).toEqual([]);
    expect(await bridgeHealthy()).toBe(true);
  });

  test('no payload of the fuzzed requests ran', () => {
    expect(existsSync(CANARY)).toBe(false);
  });

  test('the fuzzed requests left nothing behind', async () => {
    const api = `${BASE_PATH}/api/v1`;
    const links = await raw({
      method: 'GET',
      path: `${api}/links`,
      headers: authHeader(alice)
    });
    const live = (
      JSON.parse(links.text) as {
        links: { id: string; revokedAt: string | null }[];
      }
    ).links.filter(l => created.links.has(l.id) && l.revokedAt === null);
    expect(live).toEqual([]);
    const endpoints = await raw({
      method: 'GET',
      path: `${api}/endpoints`,
      headers: authHeader(alice)
    });
    const kept = (
      JSON.parse(endpoints.text) as { endpoints: { id: string }[] }
    ).endpoints.filter(e => created.endpoints.has(e.id));
    expect(kept).toEqual([]);
  });
});
