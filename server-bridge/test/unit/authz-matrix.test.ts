/**
 * The authz matrix: every route the app registers (collected by an onRoute hook, never a
 * hand list) × every kind of caller, each answer checked against the route's declared
 * policy (`config.access`, src/auth/policy.ts). Each cell runs in a fresh app where alice
 * first created one resource of every kind through the real routes. A route without an
 * entry in REQUESTS fails the test, so no route can be added without one.
 */
import { sshBatchScripts } from '../../src/adapters/ssh/scripts';
import type { BridgeApp } from '../../src/app';
import {
  policy,
  type ResourceKind,
  type RouteAccess
} from '../../src/auth/policy';
import { EndpointKeys } from '../../src/endpoints/keys';
import { EndpointService } from '../../src/endpoints/service';
import { EndpointUsage } from '../../src/endpoints/usage';
import { UserModelTable } from '../../src/endpoints/repository/user-models';
import { UserModels } from '../../src/endpoints/user-models';
import { Gateway } from '../../src/endpoints/gateway';
import { JobEvents } from '../../src/jobs/events';
import { JobService } from '../../src/jobs/service';
import { testStore } from './test-store';
import {
  BASE,
  BRIDGE_SCOPE,
  CPU_SMALL_PROFILE,
  HUB_USERS,
  PRINT_NOTEBOOK,
  testApp
} from './app-fixture';
import { demoConfig } from './demo-config';
import { controllerFixture } from './endpoints-fakes';
import { TableRouter } from './gateway-fakes';
import { fakeAccess } from './job-fakes';
import { FakeKernelCluster, START, kernelAccess } from './kernel-fakes';
import { KernelEvents } from '../../src/kernels/events';
import { KernelService } from '../../src/kernels/service';
import { renderKernelScript } from '../../src/adapters/ssh/kernel-script';
import { storageFixture } from './storage-fakes';
import { unavailableRoller } from '../../src/triggers/actions/roll-endpoint';
import { buildTriggers } from '../../src/triggers/build';
import { userModelsConfig } from './user-models-fakes';

/** Alice's own model (a file on archive), by a name no other answer holds. */
const MODEL = 'alice-model-7f3';
const MODEL_FILE = 'GGUF alice weights';

const ADMIN_GROUP = 'hpc-admins';

function hubUser(name: string, groups: string[], admin = false): unknown {
  return {
    kind: 'user',
    name,
    admin,
    groups,
    scopes: [BRIDGE_SCOPE, `access:servers!user=${name}`]
  };
}

HUB_USERS['mx-alice'] = hubUser('alice', ['ml101']);
HUB_USERS['mx-bob'] = hubUser('bob', ['ml101']);
HUB_USERS['mx-carol'] = hubUser('carol', ['ml101-instructors']);
HUB_USERS['mx-root'] = hubUser('root', [], true);
HUB_USERS['mx-dora'] = hubUser('dora', [ADMIN_GROUP]);

const PRINCIPALS = {
  owner: 'token mx-alice',
  other: 'token mx-bob',
  /** A member of ml101-instructors: teaches alice's course. */
  instructor: 'token mx-carol',
  /** A hub admin. */
  admin: 'token mx-root',
  /** A member of roles.adminGroup. */
  adminGroup: 'token mx-dora',
  anonymous: undefined,
  badToken: 'token not-known-to-the-hub'
} as const;
type Principal = keyof typeof PRINCIPALS;
const PRINCIPAL_NAMES = Object.keys(PRINCIPALS) as Principal[];

/**
 * What an instructor of the owner's course may do with a resource of a student, by kind;
 * a kind not listed: as any other user. Course mode gives instructors no reach into a
 * student's own resources: they see job states through `GET /courses/:course/jobs`
 * (a course route, below), never a job's notebook, output or log (`job` is not listed).
 */
const INSTRUCTOR_REACH: Partial<Record<ResourceKind, 'read' | 'act'>> = {};

/**
 * Course routes (`policy.course`), for alice's course ml101: who of the principals holds
 * which place in it. Alice (the owner) and bob are students, carol teaches it.
 */
const COURSE_PLACE: Partial<Record<Principal, 'instructor' | 'student'>> = {
  owner: 'student',
  other: 'student',
  instructor: 'instructor'
};

/** The documented answer to a token the hub refuses (docs/api.md, Errors). */
const BAD_TOKEN_STATUS = 403;

const SECRET = 'ALICE-SECRET-CONTENT';
const SHARED = 'alice-shared-bytes';
const PART = 'abcde';

const JOB_REQUEST = {
  name: 'alice-job',
  notebook: { path: 'a.ipynb', content: PRINT_NOTEBOOK },
  profile: 'cpu-small'
};

const TRIGGER_REQUEST = {
  name: 'nightly',
  source: { kind: 'schedule', cron: '0 2 * * *' },
  action: { kind: 'webhook', url: 'http://8.8.8.8/hook' }
};

/** Alice's resources in one world, by the ids the routes know them by. */
interface IOwned {
  job: string;
  endpoint: string;
  key: string;
  link: string;
  transfer: string;
  upload: string;
  trigger: string;
  kernel: string;
  conversation: string;
}

interface IWorld {
  app: BridgeApp;
  cluster: FakeKernelCluster;
  owned: IOwned;
}

interface IRequestEntry {
  /** The `:tier` of the route; default scratch. */
  tier?: string;
  query?: Record<string, string>;
  body?: (o: IOwned) => unknown;
  /** A raw body (application/octet-stream) instead of JSON. */
  raw?: string;
  /** Public routes: the status every caller gets. */
  publicStatus?: number;
  /** The owner's status when it is no success (a WebSocket route asked without an upgrade). */
  ownerStatus?: number;
  /** The answer is a stream that does not end (SSE): check the status only. */
  endless?: true;
  /** Run as the owner before the request (e.g. upload the part an upload completes). */
  before?: (w: IWorld) => Promise<void>;
}

/** One entry per route (`METHOD path` below the base path). */
const REQUESTS: Record<string, IRequestEntry> = {
  'GET /api/v1/version': { publicStatus: 200 },
  'GET /api/v1/openapi.json': { publicStatus: 200 },
  'GET /api/v1/whoami': {},
  'GET /api/v1/health': {},
  'GET /api/v1/clusters': {},
  'GET /api/v1/profiles': {},
  'POST /api/v1/jobs': { body: () => JOB_REQUEST },
  'POST /api/v1/jobs/estimate': { body: () => JOB_REQUEST },
  'GET /api/v1/jobs': {},
  'GET /api/v1/jobs/:id': {},
  'POST /api/v1/jobs/:id/cancel': {},
  'POST /api/v1/jobs/:id/hold': {},
  'POST /api/v1/jobs/:id/release': {},
  'POST /api/v1/jobs/:id/resubmit': {},
  'GET /api/v1/jobs/:id/output': { query: { element: '0' } },
  'GET /api/v1/jobs/:id/log': { query: { element: '0', stream: 'stdout' } },
  'GET /api/v1/events': { endless: true },
  'GET /api/v1/kernels/specs': {},
  'GET /api/v1/kernels': {},
  'POST /api/v1/kernels': { body: () => START },
  'GET /api/v1/kernels/:id': {},
  'DELETE /api/v1/kernels/:id': {},
  'PUT /api/v1/kernels/:id/lease': {},
  'GET /api/v1/kernels/:id/channels/:channel': { ownerStatus: 400 },
  'GET /api/v1/admin/kernels': {},
  'GET /api/v1/credentials/ssh': {},
  'GET /api/v1/audit': {},
  'GET /api/v1/admin/overview': {},
  'GET /api/v1/admin/usage': {},
  'GET /api/v1/admin/health': {},
  'GET /api/v1/tiers': {},
  'GET /api/v1/tiers/:tier/files': {},
  'DELETE /api/v1/tiers/:tier/files': { query: { path: 'alice-secret.txt' } },
  'GET /api/v1/tiers/:tier/stat': { query: { path: 'alice-secret.txt' } },
  'GET /api/v1/lineage': {
    query: { tier: 'archive', path: 'alice-secret.txt' }
  },
  'GET /api/v1/tiers/:tier/content': { query: { path: 'alice-secret.txt' } },
  'PUT /api/v1/tiers/:tier/content': {
    query: { path: 'alice-secret.txt', overwrite: 'true' },
    raw: 'overwritten'
  },
  'POST /api/v1/tiers/:tier/mkdir': { body: () => ({ path: 'new-folder' }) },
  'POST /api/v1/tiers/:tier/rename': {
    body: () => ({ from: 'alice-secret.txt', to: 'moved.txt' })
  },
  'POST /api/v1/tiers/:tier/copy': {
    body: () => ({ from: 'alice-secret.txt', to: 'copy2.txt' })
  },
  'GET /api/v1/transfers/:id': {},
  'POST /api/v1/tiers/:tier/code-access': {
    tier: 'archive',
    body: () => ({ path: 'alice-secret.txt' })
  },
  'POST /api/v1/tiers/:tier/uploads': {
    tier: 'archive',
    body: () => ({ path: 'other.bin', size: 5, direct: false })
  },
  'GET /api/v1/tiers/:tier/uploads': { tier: 'archive' },
  'PUT /api/v1/tiers/:tier/uploads/:uploadId/parts/:partNumber': {
    tier: 'archive',
    raw: PART
  },
  'POST /api/v1/tiers/:tier/uploads/:uploadId/complete': {
    tier: 'archive',
    body: () => ({}),
    before: async w => {
      await request(w.app, 'owner', {
        method: 'PUT',
        url: `/api/v1/tiers/archive/uploads/${w.owned.upload}/parts/1`,
        raw: PART
      });
    }
  },
  'DELETE /api/v1/tiers/:tier/uploads/:uploadId': { tier: 'archive' },
  'POST /api/v1/tiers/:tier/links': {
    tier: 'outreach',
    body: () => ({ path: 'shared.txt' })
  },
  'GET /api/v1/tiers/:tier/links': { tier: 'outreach' },
  'GET /api/v1/links': {},
  'DELETE /api/v1/links/:id': {},
  'GET /api/v1/public/links/:id': { publicStatus: 200 },
  'GET /api/v1/triggers': {},
  'POST /api/v1/triggers': { body: () => TRIGGER_REQUEST },
  'GET /api/v1/triggers/:id': {},
  'PATCH /api/v1/triggers/:id': { body: () => ({ state: 'paused' }) },
  'DELETE /api/v1/triggers/:id': {},
  'GET /api/v1/triggers/:id/runs': {},
  'POST /api/v1/triggers/:id/dry-run': {},
  'GET /api/v1/models': {},
  'POST /api/v1/models': {
    tier: 'archive',
    body: () => ({ name: 'another', uri: 'archive:model.gguf' })
  },
  'DELETE /api/v1/models/:name': {},
  'GET /api/v1/courses': {},
  'GET /api/v1/courses/:course': {},
  'PUT /api/v1/courses/:course': { body: () => ({ title: 'ML 101' }) },
  'POST /api/v1/courses/:course/endpoint-key': {},
  'DELETE /api/v1/courses/:course/endpoint-keys/:student': {},
  'GET /api/v1/courses/:course/usage': {},
  'GET /api/v1/courses/:course/jobs': {},
  'GET /api/v1/courses/:course/dataset/files': {},
  'GET /api/v1/courses/:course/dataset/content': {
    query: { path: 'data.csv' }
  },
  'POST /api/v1/endpoints': {
    body: () => ({ name: 'chat2', model: 'tiny-random', provider: 'local' })
  },
  'GET /api/v1/endpoints': {},
  'GET /api/v1/endpoints/:id': {},
  'POST /api/v1/endpoints/:id/start': {},
  'POST /api/v1/endpoints/:id/stop': {},
  'GET /api/v1/endpoints/:id/metrics': {},
  'DELETE /api/v1/endpoints/:id': {},
  'POST /api/v1/endpoints/:id/roll': { body: () => ({ model: MODEL }) },
  'POST /api/v1/endpoints/:id/keys': { body: () => ({ name: 'k2' }) },
  'GET /api/v1/endpoints/:id/keys': {},
  'DELETE /api/v1/endpoints/:id/keys/:keyId': {},
  // The fake router has no replica: the owner's model calls end in 503 from the gateway.
  'GET /api/v1/assistant/endpoints': {},
  'POST /api/v1/assistant/complete': {
    body: o => ({ endpointId: o.endpoint, prefix: 'x = ' }),
    ownerStatus: 503
  },
  'GET /api/v1/assistant/conversations': {},
  'POST /api/v1/assistant/conversations': {
    body: o => ({ endpointId: o.endpoint })
  },
  'GET /api/v1/assistant/conversations/:id': {},
  'DELETE /api/v1/assistant/conversations/:id': {},
  'POST /api/v1/assistant/conversations/:id/messages': {
    body: () => ({ content: 'hello' }),
    ownerStatus: 503
  },
  // The gateway: a hub token is no API key, whoever holds it.
  'GET /v1/models': { publicStatus: 401 },
  'GET /v1/models/:model': { publicStatus: 401 },
  'POST /v1/chat/completions': { publicStatus: 401 },
  'POST /v1/completions': { publicStatus: 401 },
  'POST /v1/embeddings': { publicStatus: 401 }
};

interface IRoute {
  method: string;
  /** Below the base path, e.g. `/api/v1/jobs/:id`. */
  path: string;
  access: RouteAccess | undefined;
}

const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`;

interface ISend {
  method: string;
  url: string;
  query?: Record<string, string>;
  body?: unknown;
  raw?: string;
  endless?: boolean;
}

interface IAnswer {
  status: number;
  body: string;
}

async function request(
  app: BridgeApp,
  who: Principal,
  s: ISend
): Promise<IAnswer> {
  const auth = PRINCIPALS[who];
  const headers: Record<string, string> = {
    ...(auth === undefined ? {} : { authorization: auth }),
    ...(s.raw === undefined
      ? {}
      : { 'content-type': 'application/octet-stream' })
  };
  const res = await app.inject({
    method: s.method as 'GET',
    url: `${BASE}${s.url}`,
    headers,
    ...(s.query === undefined ? {} : { query: s.query }),
    ...(s.raw !== undefined
      ? { payload: s.raw }
      : s.body === undefined
        ? {}
        : { payload: s.body as object }),
    ...(s.endless === true ? { payloadAsStream: true } : {})
  });
  if (s.endless === true) {
    if (res.statusCode === 200) {
      return { status: 200, body: '' };
    }
    let text = '';
    for await (const chunk of res.stream()) {
      text += String(chunk);
    }
    return { status: res.statusCode, body: text };
  }
  return { status: res.statusCode, body: res.body };
}

async function ok(
  app: BridgeApp,
  s: ISend,
  pick: (json: Record<string, unknown>) => unknown = j => j,
  who: Principal = 'owner'
): Promise<string> {
  const a = await request(app, who, s);
  if (a.status >= 300) {
    throw new Error(`setup ${s.method} ${s.url}: ${a.status} ${a.body}`);
  }
  return String(pick(JSON.parse(a.body) as Record<string, unknown>));
}

/** A fresh app in which alice owns one resource of every kind, created through the routes. */
async function world(bare = false): Promise<IWorld> {
  const store = testStore();
  const config = demoConfig({
    roles: { adminGroup: ADMIN_GROUP },
    profiles: [CPU_SMALL_PROFILE],
    kernels: { profiles: ['cpu-small'] }
  });
  const cluster = new FakeKernelCluster();
  const access = fakeAccess(cluster);
  const events = new JobEvents();
  const logger = { info: () => undefined, warn: () => undefined };
  const serving = controllerFixture(userModelsConfig(), store);
  const storage = storageFixture(store).service;
  const models = new UserModels({
    config: serving.config,
    table: new UserModelTable(store),
    storage,
    store
  });
  const keys = new EndpointKeys(store);
  const usage = new EndpointUsage(store);
  const gateway = new Gateway({
    keys,
    usage,
    router: new TableRouter(serving.table)
  });
  const jobs = new JobService({
    config,
    store,
    access,
    scripts: sshBatchScripts,
    events,
    logger: logger as never
  });
  const kernelEvents = new KernelEvents();
  const kernels = new KernelService({
    config,
    store,
    access: kernelAccess(cluster),
    script: renderKernelScript,
    events: kernelEvents,
    logger
  });
  const { app } = await testApp({
    config,
    store,
    jobs: { service: jobs, access, events },
    kernels: { service: kernels, events: kernelEvents },
    storage,
    triggers: buildTriggers({
      config,
      store,
      jobs,
      storage,
      roller: unavailableRoller,
      webhooks: config.webhooks,
      logger: { ...logger, error: () => undefined }
    }).service,
    hubGroups: async () =>
      new Map([
        ['ml101', ['alice', 'bob']],
        ['ml101-instructors', ['carol']]
      ]),
    endpoints: {
      service: new EndpointService({
        config: serving.config,
        table: serving.table,
        controller: serving.controller,
        store,
        models
      }),
      keys: { keys, usage },
      gateway,
      models
    },
    close: async () => {
      usage.close();
      gateway.close();
      store.close();
    }
  });
  if (bare) {
    return { app, cluster, owned: undefined as never };
  }

  const job = await ok(
    app,
    { method: 'POST', url: '/api/v1/jobs', body: JOB_REQUEST },
    j => j.id
  );
  const workdir = cluster.submitted[0]?.workdir ?? '';
  cluster.files.set(`${workdir}/logs/0.out`, Buffer.from(SECRET));
  cluster.files.set(
    `${workdir}/outputs/0.ipynb`,
    Buffer.from(JSON.stringify(PRINT_NOTEBOOK))
  );
  const endpoint = await ok(
    app,
    {
      method: 'POST',
      url: '/api/v1/endpoints',
      body: { name: 'chat', model: 'tiny-random', provider: 'local' }
    },
    j => j.id
  );
  const keyId = await ok(
    app,
    {
      method: 'POST',
      url: `/api/v1/endpoints/${endpoint}/keys`,
      body: { name: 'k1' }
    },
    j => j.id
  );
  for (const [tier, path, bytes] of [
    ['scratch', 'alice-secret.txt', SECRET],
    ['archive', 'alice-secret.txt', SECRET],
    ['outreach', 'shared.txt', SHARED],
    ['archive', 'model.gguf', MODEL_FILE]
  ] as const) {
    await ok(app, {
      method: 'PUT',
      url: `/api/v1/tiers/${tier}/content`,
      query: { path },
      raw: bytes
    });
  }
  await ok(app, {
    method: 'POST',
    url: '/api/v1/models',
    body: { name: MODEL, uri: 'archive:model.gguf' }
  });
  const link = await ok(
    app,
    {
      method: 'POST',
      url: '/api/v1/tiers/outreach/links',
      body: { path: 'shared.txt' }
    },
    j => j.id
  );
  // Carol shares her endpoint and a dataset folder with ml101; alice takes her key.
  const courseEndpoint = await ok(
    app,
    {
      method: 'POST',
      url: '/api/v1/endpoints',
      body: { name: 'course', model: 'tiny-random', provider: 'local' }
    },
    j => j.id,
    'instructor'
  );
  await ok(
    app,
    {
      method: 'PUT',
      url: '/api/v1/tiers/archive/content',
      query: { path: 'ml101-data/data.csv' },
      raw: 'x,y\n1,2\n'
    },
    j => j,
    'instructor'
  );
  await ok(
    app,
    {
      method: 'PUT',
      url: '/api/v1/courses/ml101',
      body: {
        endpoint: { endpointId: courseEndpoint, tokenBudget: 100 },
        dataset: { tier: 'archive', path: 'ml101-data' }
      }
    },
    j => j,
    'instructor'
  );
  await ok(app, {
    method: 'POST',
    url: '/api/v1/courses/ml101/endpoint-key'
  });
  const transfer = await ok(
    app,
    {
      method: 'POST',
      url: '/api/v1/tiers/scratch/copy',
      body: { from: 'alice-secret.txt', to: 'copy.txt' }
    },
    j => j.id
  );
  const upload = await ok(
    app,
    {
      method: 'POST',
      url: '/api/v1/tiers/archive/uploads',
      body: { path: 'big.bin', size: PART.length, direct: false }
    },
    j => j.uploadId
  );
  const trigger = await ok(
    app,
    { method: 'POST', url: '/api/v1/triggers', body: TRIGGER_REQUEST },
    j => j.id
  );
  // Alice's kernel, running (ipykernel's sockets known), so its channel answers.
  const kernel = await ok(
    app,
    { method: 'POST', url: '/api/v1/kernels', body: START },
    j => j.id
  );
  const conversation = await ok(
    app,
    {
      method: 'POST',
      url: '/api/v1/assistant/conversations',
      body: { endpointId: endpoint }
    },
    j => j.id
  );
  const rec = kernels.table.get(kernel);
  if (rec !== undefined) {
    kernels.table.update({
      ...rec,
      kernel: { ...rec.kernel, state: 'running' },
      ports: { shell: 1, iopub: 2, stdin: 3, control: 4, hb: 5 }
    });
  }
  return {
    app,
    cluster,
    owned: {
      job,
      endpoint,
      key: keyId,
      link,
      transfer,
      upload,
      trigger,
      kernel,
      conversation
    }
  };
}

/** The route's path with alice's resources filled in. */
function urlOf(path: string, entry: IRequestEntry, o: IOwned): string {
  const idOf: [string, string][] = [
    ['/jobs/:id', o.job],
    ['/endpoints/:id', o.endpoint],
    ['/transfers/:id', o.transfer],
    ['/links/:id', o.link],
    ['/triggers/:id', o.trigger],
    ['/kernels/:id', o.kernel],
    ['/conversations/:id', o.conversation]
  ];
  let url = path;
  for (const [prefix, id] of idOf) {
    url = url.replace(prefix, prefix.replace(':id', id));
  }
  return url
    .replace(':tier', entry.tier ?? 'scratch')
    .replace(':uploadId', o.upload)
    .replace(':partNumber', '1')
    .replace(':keyId', o.key)
    .replace(':course', 'ml101')
    .replace(':student', 'alice')
    .replace(':model', 'tiny-random')
    .replace(':name', MODEL)
    .replace(':channel', 'shell');
}

/** What alice sees of her resources; a cell of another caller must leave it as it was. */
async function snapshot(w: IWorld): Promise<unknown> {
  const o = w.owned;
  const get = (url: string, query?: Record<string, string>) =>
    request(w.app, 'owner', {
      method: 'GET',
      url,
      ...(query ? { query } : {})
    });
  const job = await get(`/api/v1/jobs/${o.job}`);
  const endpoint = await get(`/api/v1/endpoints/${o.endpoint}`);
  const keys = await get(`/api/v1/endpoints/${o.endpoint}/keys`);
  const links = await get('/api/v1/links');
  const catalog = await get('/api/v1/models');
  const files = await Promise.all(
    [
      ['scratch', 'alice-secret.txt'],
      ['archive', 'alice-secret.txt'],
      ['outreach', 'shared.txt']
    ].map(([tier, path]) =>
      get(`/api/v1/tiers/${tier}/content`, { path: path ?? '' })
    )
  );
  const transfer = await get(`/api/v1/transfers/${o.transfer}`);
  const trigger = await get(`/api/v1/triggers/${o.trigger}`);
  const kernel = await get(`/api/v1/kernels/${o.kernel}`);
  const conversation = await get(
    `/api/v1/assistant/conversations/${o.conversation}`
  );
  const part = await request(w.app, 'owner', {
    method: 'PUT',
    url: `/api/v1/tiers/archive/uploads/${o.upload}/parts/1`,
    raw: PART
  });
  const parse = (a: IAnswer) => JSON.parse(a.body) as Record<string, unknown>;
  return {
    job: [job.status, parse(job).state],
    endpoint: [endpoint.status, parse(endpoint).state === 'stopped'],
    keys: [keys.status, keys.body],
    links: [links.status, links.body],
    models: [catalog.status, catalog.body.includes(MODEL)],
    files: files.map(f => [f.status, f.body]),
    transfer: transfer.status,
    trigger: [trigger.status, trigger.body],
    kernel: [kernel.status, parse(kernel).state],
    conversation: [conversation.status, conversation.body],
    upload: part.status,
    jobsAsAlice: w.cluster.submitted.filter(j => j.user.includes('alice'))
      .length,
    actions: [...w.cluster.actions]
  };
}

interface IExpectation {
  /** Allowed statuses; `2xx` for any success. */
  status: number[] | '2xx';
  /** The body must not hold alice's data (ids not sent in the request, contents). */
  noOwnerData: boolean;
  /** Alice's resources must be as they were. */
  intact: boolean;
}

const REFUSED = [403, 404];

function expectationFor(
  route: IRoute,
  entry: IRequestEntry,
  who: Principal
): IExpectation {
  const access = route.access;
  const plain = { noOwnerData: false, intact: false };
  if (access === undefined) {
    throw new Error('no policy');
  }
  if (access.who === 'public') {
    return { status: [entry.publicStatus ?? 200], ...plain };
  }
  if (who === 'anonymous') {
    return { status: [401], ...plain, intact: true };
  }
  if (who === 'badToken') {
    return { status: [BAD_TOKEN_STATUS], ...plain, intact: true };
  }
  const isAdmin = who === 'admin' || who === 'adminGroup';
  if (access.who === 'admin') {
    return isAdmin
      ? { status: '2xx', ...plain }
      : { status: [403], noOwnerData: true, intact: true };
  }
  if (access.who === 'course') {
    const place = COURSE_PLACE[who];
    const fits =
      place !== undefined &&
      (access.role === 'member' || access.role === place);
    const adminMay =
      isAdmin &&
      (access.admins === 'act' ||
        (access.admins === 'read' && route.method === 'GET'));
    return fits || adminMay
      ? { status: '2xx', ...plain }
      : { status: REFUSED, noOwnerData: true, intact: true };
  }
  if (who === 'owner') {
    return {
      status: entry.ownerStatus === undefined ? '2xx' : [entry.ownerStatus],
      ...plain
    };
  }
  if (access.who === 'user') {
    return { status: '2xx', noOwnerData: true, intact: true };
  }
  const reach =
    who === 'instructor'
      ? INSTRUCTOR_REACH[access.resource]
      : isAdmin
        ? access.admins
        : undefined;
  if (reach === 'act' || (reach === 'read' && route.method === 'GET')) {
    return { status: '2xx', ...plain };
  }
  // A tier's paths are the caller's own: another user reaches their own files, never alice's.
  if (access.resource === 'tier') {
    return {
      status: [200, 201, 202, 204, 400, 403, 404, 409],
      noOwnerData: true,
      intact: true
    };
  }
  return { status: REFUSED, noOwnerData: true, intact: true };
}

function leaked(answer: IAnswer, sent: ISend, o: IOwned): string[] {
  const said = `${sent.url} ${JSON.stringify(sent.body ?? {})}`;
  const markers = [...Object.values(o), SECRET, SHARED];
  return markers.filter(m => answer.body.includes(m) && !said.includes(m));
}

let routes: IRoute[] = [];

beforeAll(async () => {
  const w = await world(true);
  routes = w.app.declaredRoutes
    .filter(r => r.method !== 'HEAD')
    .map(r => ({
      method: r.method,
      path: r.url.startsWith(BASE) ? r.url.slice(BASE.length) : r.url,
      access: r.access
    }));
  await w.app.close();
});

describe('the authz matrix', () => {
  it('has a request entry for every route, and every entry is a route', () => {
    const have = new Set(routes.map(key));
    expect({
      routesWithoutEntry: [...have].filter(k => REQUESTS[k] === undefined),
      entriesWithoutRoute: Object.keys(REQUESTS).filter(k => !have.has(k))
    }).toEqual({ routesWithoutEntry: [], entriesWithoutRoute: [] });
    expect(routes.length).toBeGreaterThan(40);
  });

  it("gives every GET's HEAD twin the same policy", async () => {
    const w = await world(true);
    const all = w.app.declaredRoutes;
    await w.app.close();
    for (const head of all.filter(r => r.method === 'HEAD')) {
      const get = all.find(r => r.method === 'GET' && r.url === head.url);
      expect(get?.access).toEqual(head.access);
    }
  });

  it("answers every route × caller as the route's policy says", async () => {
    const failures: string[] = [];
    const rows: string[] = [];
    for (const route of routes) {
      const entry = REQUESTS[key(route)];
      if (entry === undefined) {
        failures.push(`${key(route)}: no entry in REQUESTS`);
        continue;
      }
      const cells: string[] = [];
      for (const who of PRINCIPAL_NAMES) {
        const want = expectationFor(route, entry, who);
        const w = await world();
        try {
          await entry.before?.(w);
          const before = want.intact ? await snapshot(w) : undefined;
          const sent: ISend = {
            method: route.method,
            url: urlOf(route.path, entry, w.owned),
            ...(entry.query === undefined ? {} : { query: entry.query }),
            ...(entry.body === undefined ? {} : { body: entry.body(w.owned) }),
            ...(entry.raw === undefined ? {} : { raw: entry.raw }),
            ...(entry.endless === true ? { endless: true } : {})
          };
          const answer = await request(w.app, who, sent);
          cells.push(String(answer.status));
          const problems: string[] = [];
          const statusOk =
            want.status === '2xx'
              ? answer.status >= 200 && answer.status < 300
              : want.status.includes(answer.status);
          if (!statusOk) {
            problems.push(
              `status ${answer.status}, expected ${String(want.status)}: ${answer.body.slice(0, 200)}`
            );
          }
          if (want.noOwnerData) {
            const leaks = leaked(answer, sent, w.owned);
            if (leaks.length > 0) {
              problems.push(`body holds alice's ${leaks.join(', ')}`);
            }
          }
          if (before !== undefined) {
            const after = await snapshot(w);
            if (JSON.stringify(after) !== JSON.stringify(before)) {
              problems.push(
                `changed alice's resources: ${JSON.stringify(before)} → ${JSON.stringify(after)}`
              );
            }
          }
          if (problems.length > 0) {
            cells[cells.length - 1] += '!';
            failures.push(`${key(route)} as ${who}: ${problems.join('; ')}`);
          }
        } finally {
          await w.app.close();
        }
      }
      rows.push(
        `${key(route).padEnd(64)} ${policyText(route.access).padEnd(22)} ${cells.map(c => c.padEnd(5)).join(' ')}`
      );
    }
    const matrix = [
      `${'route'.padEnd(64)} ${'policy'.padEnd(22)} ${PRINCIPAL_NAMES.map(p => p.slice(0, 5).padEnd(5)).join(' ')}`,
      ...rows
    ].join('\n');
    if (failures.length > 0) {
      throw new Error(`${failures.join('\n')}\n\n${matrix}`);
    }
    // Hundreds of fresh apps: a bound on the whole run, not a performance check.
  }, 600_000);
});

function policyText(access: RouteAccess | undefined): string {
  if (access === undefined) {
    return '-';
  }
  if (access.who === 'course') {
    return `course ${access.role}, admins ${access.admins}`;
  }
  return access.who === 'owner'
    ? `${access.resource}, admins ${access.admins}`
    : access.who;
}

describe('routes without a policy', () => {
  it('keep the bridge from starting', async () => {
    const { app } = await testApp();
    await expect(
      app.register(
        async api => {
          api.get('/api/v1/undeclared', async () => ({ ok: true }));
        },
        { prefix: BASE }
      )
    ).rejects.toThrow(
      'Route GET /services/hpc-bridge/api/v1/undeclared declares no access policy'
    );
    await app.close();
  });

  it('get the hub auth hook from a declared policy, not from the route', async () => {
    const { app } = await testApp();
    await app.register(
      async api => {
        api.get('/api/v1/mine', { config: policy.user() }, async () => ({
          ok: true
        }));
        api.get('/api/v1/admins', { config: policy.admin() }, async () => ({
          ok: true
        }));
      },
      { prefix: BASE }
    );
    const as = (url: string, token?: string) =>
      app.inject({
        url: `${BASE}${url}`,
        headers: token === undefined ? {} : { authorization: `token ${token}` }
      });
    expect((await as('/api/v1/mine')).statusCode).toBe(401);
    expect((await as('/api/v1/mine', 'mx-bob')).statusCode).toBe(200);
    expect((await as('/api/v1/admins', 'mx-bob')).statusCode).toBe(403);
    expect((await as('/api/v1/admins', 'mx-root')).statusCode).toBe(200);
    await app.close();
  });
});
