#!/usr/bin/env node
// Smoke test of the stack's OpenStack (stack/up --with-openstack), with plain fetch:
// 1. a g1.gpu server with llama-server user-data: ACTIVE, /health answers at its fixed IP,
//    Placement holds its VGPU allocation; deleted: its namespace and processes are gone;
// 2. instance quota 1: a second server is refused with 403 "Quota exceeded" (quotas restored);
// 3. three 1-GPU servers on two GPUs: the third goes ERROR "No valid host was found".
// Usage: node stack/openstack/smoke.mjs [OS_DIR]  (default <repo>/.stack/openstack). Run as root
// (it reads the credential files and lists network namespaces). Prints timings, never secrets.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const osDir = process.argv[2] ?? join(repoRoot, '.stack', 'openstack');
const cloud = JSON.parse(readFileSync(join(osDir, 'cloud.json'), 'utf8'));
const admin = JSON.parse(readFileSync(join(osDir, 'admin.json'), 'utf8'));
const appCredential = {
  id: readFileSync(join(osDir, 'appcred.id'), 'utf8').trim(),
  secret: readFileSync(join(osDir, 'appcred.secret'), 'utf8').trim()
};
const PREFIX = 'hpcb-smoke-';
const API_KEY = 'smoke-key';
const USER_DATA = `#!/bin/sh
exec /opt/hpc-bridge/llama/bin/llama-server -m /opt/hpc-bridge/models/tiny-random.gguf --host 0.0.0.0 --port 8080 --api-key ${API_KEY} -t 1 -c 512 --chat-template chatml
`;

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
const started = Date.now();
const log = message =>
  console.log(
    `[smoke +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`
  );
function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

async function authenticate(identity, scope) {
  const response = await fetch(`${cloud.authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ auth: { identity, ...(scope ? { scope } : {}) } })
  });
  check(response.status === 201, `Keystone auth: HTTP ${response.status}`);
  const { token } = await response.json();
  const endpoint = type => {
    const service = token.catalog.find(entry => entry.type === type);
    const found = service?.endpoints.find(
      e => e.interface === 'public' && e.region_id === cloud.region
    );
    check(found, `no public ${type} endpoint in the catalog`);
    return found.url.replace(/\/$/, '');
  };
  const headers = { 'X-Auth-Token': response.headers.get('x-subject-token') };
  // call(type, method, path, body) -> { status, body }
  return async (type, method, path, body) => {
    const extra =
      type === 'placement' ? { 'OpenStack-API-Version': 'placement 1.28' } : {};
    const res = await fetch(endpoint(type) + path, {
      method,
      headers: {
        ...headers,
        ...extra,
        ...(body ? { 'Content-Type': 'application/json' } : {})
      },
      body: body ? JSON.stringify(body) : undefined
    });
    const text = await res.text();
    let parsed = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed };
  };
}

const bridge = await authenticate({
  methods: ['application_credential'],
  application_credential: appCredential
});
log('token for hpc-bridge from the application credential');
const operator = await authenticate(
  {
    methods: ['password'],
    password: {
      user: {
        name: admin.username,
        password: admin.password,
        domain: { name: admin.userDomainName }
      }
    }
  },
  {
    project: {
      name: admin.projectName,
      domain: { name: admin.projectDomainName }
    }
  }
);

async function lookup(type, path, collection, name) {
  const { body } = await bridge(type, 'GET', path);
  const found = body[collection].find(item => item.name === name);
  check(found, `${name} not found in ${path}`);
  return found.id;
}
const flavors = {
  gpu: await lookup('compute', '/flavors', 'flavors', 'g1.gpu'),
  small: await lookup('compute', '/flavors', 'flavors', 'm1.small')
};
const imageId = await lookup(
  'image',
  `/v2/images?name=${cloud.image}`,
  'images',
  cloud.image
);
const networkId = await lookup(
  'network',
  `/v2.0/networks?name=${cloud.network}`,
  'networks',
  cloud.network
);

async function createServer(name, flavorRef, userData) {
  return bridge('compute', 'POST', '/servers', {
    server: {
      name: PREFIX + name,
      flavorRef,
      imageRef: imageId,
      networks: [{ uuid: networkId }],
      security_groups: [{ name: cloud.securityGroup }],
      ...(userData
        ? { user_data: Buffer.from(userData).toString('base64') }
        : {})
    }
  });
}

async function waitForStatus(id, wanted, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await bridge('compute', 'GET', `/servers/${id}`);
    check(status === 200, `GET server ${id}: HTTP ${status}`);
    if (body.server.status === wanted || body.server.status === 'ERROR') {
      return body.server;
    }
    check(Date.now() < deadline, `server ${id} still ${body.server.status}`);
    await sleep(250);
  }
}

async function deleteServer(id, timeoutMs = 60000) {
  await bridge('compute', 'DELETE', `/servers/${id}`);
  const deadline = Date.now() + timeoutMs;
  while ((await bridge('compute', 'GET', `/servers/${id}`)).status !== 404) {
    check(Date.now() < deadline, `server ${id} not deleted`);
    await sleep(250);
  }
}

async function deleteLeftovers() {
  const { body } = await bridge('compute', 'GET', '/servers');
  for (const server of body.servers.filter(s => s.name.startsWith(PREFIX))) {
    await deleteServer(server.id);
  }
}

const namespaceOf = id => `hpcb-${id.slice(0, 8)}`;
const namespaces = () =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
const guestPids = id =>
  execFileSync('ip', ['netns', 'pids', namespaceOf(id)], { encoding: 'utf8' })
    .split(/\s+/)
    .filter(Boolean);
const processAlive = pid => {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

async function serveOneGpuServer() {
  let t = Date.now();
  const created = await createServer('serve', flavors.gpu, USER_DATA);
  check(
    created.status === 202,
    `create: HTTP ${created.status} ${JSON.stringify(created.body)}`
  );
  const id = created.body.server.id;
  const server = await waitForStatus(id, 'ACTIVE');
  check(server.status === 'ACTIVE', `server ERROR: ${server.fault?.message}`);
  log(`g1.gpu server ${id} ACTIVE in ${Date.now() - t} ms`);
  const address = server.addresses[cloud.network][0].addr;

  t = Date.now();
  for (let healthy = false; !healthy;) {
    try {
      healthy = (
        await fetch(`http://${address}:8080/health`, {
          signal: AbortSignal.timeout(2000)
        })
      ).ok;
    } catch {
      // not listening yet
    }
    check(healthy || Date.now() - t < 60000, `no /health at ${address}:8080`);
    if (!healthy) {
      await sleep(200);
    }
  }
  log(
    `llama-server /health answers at http://${address}:8080 after ${Date.now() - t} ms`
  );
  const models = await fetch(`http://${address}:8080/v1/models`, {
    headers: { Authorization: `Bearer ${API_KEY}` }
  });
  check(models.ok, `/v1/models with the API key: HTTP ${models.status}`);

  const allocations = await operator('placement', 'GET', `/allocations/${id}`);
  const vgpus = Object.values(allocations.body.allocations).reduce(
    (n, a) => n + (a.resources.VGPU ?? 0),
    0
  );
  check(vgpus === 1, `Placement: ${vgpus} VGPU allocated to ${id}`);
  log('Placement holds 1 VGPU for it');
  const console_ = await bridge('compute', 'POST', `/servers/${id}/action`, {
    'os-getConsoleOutput': { length: 5 }
  });
  check(console_.status === 200, `console output: HTTP ${console_.status}`);

  const pids = guestPids(id);
  check(pids.length > 0, 'no guest process in the namespace');
  t = Date.now();
  await deleteServer(id);
  log(`deleted in ${Date.now() - t} ms`);
  check(
    !namespaces().includes(namespaceOf(id)),
    `namespace ${namespaceOf(id)} left behind`
  );
  check(
    !pids.some(processAlive),
    `guest processes ${pids.join(' ')} left behind`
  );
  log('namespace and guest processes are gone');
}

async function quotaExceeded() {
  const projectId = cloud.projectId;
  const before = (
    await operator('compute', 'GET', `/os-quota-sets/${projectId}`)
  ).body.quota_set;
  try {
    const set = await operator(
      'compute',
      'PUT',
      `/os-quota-sets/${projectId}`,
      { quota_set: { instances: 1 } }
    );
    check(set.status === 200, `quota update: HTTP ${set.status}`);
    const first = await createServer('quota-1', flavors.small);
    check(first.status === 202, `first server: HTTP ${first.status}`);
    await waitForStatus(first.body.server.id, 'ACTIVE');
    const second = await createServer('quota-2', flavors.small);
    check(
      second.status === 403,
      `second server: HTTP ${second.status}, expected 403`
    );
    const message = JSON.stringify(second.body);
    check(
      message.includes('Quota exceeded'),
      `403 without "Quota exceeded": ${message}`
    );
    log(
      `instance quota 1: second server refused, 403 ${second.body.forbidden.message}`
    );
    await deleteServer(first.body.server.id);
  } finally {
    await operator('compute', 'PUT', `/os-quota-sets/${projectId}`, {
      quota_set: {
        instances: before.instances,
        cores: before.cores,
        ram: before.ram
      }
    });
    log(
      `quotas restored (instances ${before.instances}, cores ${before.cores}, ram ${before.ram})`
    );
  }
}

async function gpusExhausted() {
  const ids = [];
  for (const n of [1, 2, 3]) {
    const created = await createServer(`gpu-${n}`, flavors.gpu);
    check(created.status === 202, `gpu-${n}: HTTP ${created.status}`);
    ids.push(created.body.server.id);
    // One at a time, so that the third is the one that finds no GPU.
    await waitForStatus(created.body.server.id, 'ACTIVE');
  }
  const servers = [];
  for (const id of ids) {
    servers.push(
      (await bridge('compute', 'GET', `/servers/${id}`)).body.server
    );
  }
  check(
    servers[0].status === 'ACTIVE' && servers[1].status === 'ACTIVE',
    'the first two GPU servers are not ACTIVE'
  );
  check(
    servers[2].status === 'ERROR',
    `third GPU server is ${servers[2].status}`
  );
  check(
    servers[2].fault?.message.includes('No valid host was found'),
    `fault: ${servers[2].fault?.message}`
  );
  log(
    `2 VGPUs: third g1.gpu server ERROR, fault "${servers[2].fault.message}"`
  );
  for (const id of ids) {
    await deleteServer(id);
  }
}

try {
  await deleteLeftovers();
  await serveOneGpuServer();
  await quotaExceeded();
  await gpusExhausted();
  log('all smoke checks passed');
} catch (error) {
  console.error(`[smoke] FAILED: ${error.message}`);
  process.exitCode = 1;
} finally {
  await deleteLeftovers();
}
