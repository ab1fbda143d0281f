#!/usr/bin/env node
/**
 * The launcher of a cluster kernel: what the single-user server runs (as the user) for a
 * kernel spec `hpcb-<profile>`:
 *
 *   node launcher.mjs --profile PROFILE -f {connection_file}
 *
 * It binds the five TCP ports of jupyter-server's connection file at once (early
 * connections wait, paused), asks the HPC Bridge to start the kernel as a SLURM job of the
 * user (`POST /api/v1/kernels` with the HMAC key of that file), keeps the kernel's lease,
 * waits until it runs, then relays each accepted connection over a WebSocket of the
 * bridge (`/api/v1/kernels/{id}/channels/{channel}`) to the kernel's Unix socket on the
 * cluster. SIGTERM/SIGINT shut the kernel down (`DELETE`) and exit within ~1.5 s; when the
 * job ends or fails, the reason goes to stderr and the launcher exits non-zero.
 *
 * Environment: HPC_BRIDGE_URL (the bridge through the hub's proxy, e.g.
 * http://127.0.0.1:8000/services/hpc-bridge/), JUPYTERHUB_API_TOKEN (the server's token;
 * it carries the bridge scope). Optional: HPCB_KERNEL_RESOURCES (JSON, e.g.
 * {"timeMinutes":120,"cpus":4}), HPCB_KERNEL_TIERS (comma-separated tier names).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename } from 'node:path';
import { WebSocket } from 'ws';

const CHANNELS = ['shell', 'iopub', 'stdin', 'control', 'hb'];
const LEASE_EVERY_MS = 10_000;
const STATE_EVERY_MS = 2_000;
/**
 * While the kernel starts, its state is asked for every 250 ms at most (a read of the
 * bridge's store), so the first cell waits for the node, not for this loop; after a
 * minute in the queue, every 2 s.
 */
const STARTING_EVERY_MS = 250;
const QUICK_FOR_MS = 60_000;

function fail(message, code = 1) {
  process.stderr.write(`cluster kernel: ${message}\n`);
  process.exit(code);
}

function args(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--profile') {
      out.profile = argv[++i];
    } else if (argv[i] === '-f') {
      out.file = argv[++i];
    } else {
      fail(
        `unknown argument ${argv[i]} (usage: --profile P -f CONNECTION_FILE)`
      );
    }
  }
  if (!out.profile || !out.file) {
    fail('usage: launcher.mjs --profile PROFILE -f CONNECTION_FILE');
  }
  return out;
}

const opts = args(process.argv.slice(2));
const base = (process.env.HPC_BRIDGE_URL ?? '').replace(/\/*$/, '/');
const token = process.env.JUPYTERHUB_API_TOKEN ?? '';
if (base === '/' || token === '') {
  fail(
    'HPC_BRIDGE_URL and JUPYTERHUB_API_TOKEN must be set (the hub gives them to the server)'
  );
}
const headers = { authorization: `token ${token}` };

let connection;
try {
  connection = JSON.parse(readFileSync(opts.file, 'utf8'));
} catch (e) {
  fail(`cannot read the connection file ${opts.file}: ${e.message}`);
}
const jupyterKernelId =
  /^kernel-(.+)\.json$/.exec(basename(opts.file))?.[1] ?? 'unknown';

/** Calls the bridge; resolves [status, json]. */
async function bridge(method, path, body, timeoutMs = 30_000) {
  const res = await fetch(new URL(path, base), {
    method,
    headers:
      body === undefined
        ? headers
        : { ...headers, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs)
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = { error: { message: text.slice(0, 300) } };
  }
  return [res.status, json];
}

// --- Bind every port first: jupyter-server connects as soon as this process runs. ----
const pending = new Map(CHANNELS.map(c => [c, []]));
let kernel = null;
let relaying = false;
const servers = CHANNELS.map(channel => {
  const server = createServer({ pauseOnConnect: true }, sock => {
    // Kernel messages are small and each one waits for an answer: never hold one back
    // for the peer's delayed ACK (Nagle).
    sock.setNoDelay(true);
    sock.on('error', () => sock.destroy());
    if (relaying) {
      relay(channel, sock);
    } else {
      pending.get(channel).push(sock);
    }
  });
  server.on('error', e =>
    fail(
      `cannot listen on ${connection.ip}:${connection[`${channel}_port`]}: ${e.message}`
    )
  );
  server.listen(connection[`${channel}_port`], connection.ip);
  return server;
});

const refusals = new Set();
function relay(channel, sock) {
  const url = new URL(`api/v1/kernels/${kernel.id}/channels/${channel}`, base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(url, { headers, perMessageDeflate: false });
  ws.binaryType = 'nodebuffer';
  ws.on('open', () => {
    sock.on('data', chunk => ws.send(chunk, { binary: true }));
    sock.resume();
  });
  ws.on('message', data => sock.write(data));
  ws.on('unexpected-response', (_req, res) => {
    // ZMQ reconnects every few 100 ms while a kernel restarts: say it once per answer.
    const said = `${channel} ${res.statusCode}`;
    if (!refusals.has(said) && !stopping) {
      refusals.add(said);
      process.stderr.write(
        `cluster kernel: channel ${channel} refused (${res.statusCode})\n`
      );
    }
    sock.destroy();
  });
  const end = () => {
    sock.destroy();
    ws.terminate();
  };
  ws.on('close', end);
  ws.on('error', end);
  sock.on('close', end);
}

function describe(k) {
  if (k.state === 'pending') {
    const parts = [
      k.queuePosition === null ? null : `position ${k.queuePosition}`,
      k.pendingReason === null ? null : `reason ${k.pendingReason}`,
      k.expectedStart === null ? null : `expected start ${k.expectedStart}`
    ].filter(Boolean);
    return `waiting for the cluster (job ${k.slurmId}${parts.length ? `: ${parts.join(', ')}` : ''})`;
  }
  if (k.state === 'starting') {
    return `job ${k.slurmId} runs on ${k.node}; ipykernel is starting`;
  }
  return `running on ${k.node} (job ${k.slurmId}, walltime until ${k.walltimeEnd ?? '?'})`;
}

function ended(k) {
  fail(
    `the kernel's job ${k.slurmId ?? ''} has ${k.state}: ${k.endedReason ?? 'no reason given'}`,
    3
  );
}

// --- Shutdown: DELETE the kernel, exit within ~1.5 s. --------------------------------
let stopping = false;
async function shutdown(signal) {
  if (stopping) {
    return;
  }
  stopping = true;
  setTimeout(() => process.exit(0), 1500).unref();
  servers.forEach(s => s.close());
  if (kernel !== null) {
    await bridge(
      'DELETE',
      `api/v1/kernels/${kernel.id}`,
      undefined,
      1200
    ).catch(() => undefined);
  }
  process.stderr.write(`cluster kernel: stopped (${signal})\n`);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

// --- Start, lease, wait, relay. --------------------------------------------------------
const start = {
  profile: opts.profile,
  jupyterKernelId,
  connection: {
    key: connection.key,
    signatureScheme: connection.signature_scheme
  }
};
if (process.env.HPCB_KERNEL_RESOURCES) {
  start.resources = JSON.parse(process.env.HPCB_KERNEL_RESOURCES);
}
if (process.env.HPCB_KERNEL_TIERS) {
  start.tiers = process.env.HPCB_KERNEL_TIERS.split(',').filter(Boolean);
}
const [status, body] = await bridge('POST', 'api/v1/kernels', start).catch(e =>
  fail(`the HPC Bridge at ${base} does not answer: ${e.message}`)
);
if (status !== 201) {
  fail(
    `the HPC Bridge refused the kernel (${status}): ${body?.error?.message ?? JSON.stringify(body)}`
  );
}
kernel = body;
if (stopping) {
  await bridge('DELETE', `api/v1/kernels/${kernel.id}`, undefined, 1200).catch(
    () => undefined
  );
  process.exit(0);
}
process.stderr.write(
  `cluster kernel: ${kernel.id} submitted as job ${kernel.slurmId} (${kernel.profile})\n`
);

setInterval(async () => {
  try {
    const [s, lease] = await bridge(
      'PUT',
      `api/v1/kernels/${kernel.id}/lease`,
      undefined,
      8000
    );
    if (s === 409 || s === 404) {
      ended({
        ...kernel,
        state: lease?.error?.details?.state ?? 'ended',
        endedReason: lease?.error?.details?.endedReason ?? lease?.error?.message
      });
    }
  } catch (e) {
    process.stderr.write(`cluster kernel: lease not renewed: ${e.message}\n`);
  }
}, LEASE_EVERY_MS).unref();

let said = '';
let delay = 100;
const waitingSince = Date.now();
for (;;) {
  if (stopping) {
    await new Promise(() => undefined);
  }
  let s;
  let k;
  try {
    [s, k] = await bridge(
      'GET',
      `api/v1/kernels/${kernel.id}`,
      undefined,
      10_000
    );
  } catch (e) {
    process.stderr.write(
      `cluster kernel: the bridge does not answer: ${e.message}\n`
    );
    s = 0;
  }
  if (s === 200) {
    kernel = k;
    if (['ended', 'failed', 'cancelled'].includes(k.state)) {
      ended(k);
    }
    const now = describe(k);
    if (now !== said) {
      process.stderr.write(`cluster kernel: ${now}\n`);
      said = now;
    }
    if (k.state === 'running' && !relaying) {
      relaying = true;
      for (const [channel, socks] of pending) {
        socks.splice(0).forEach(sock => relay(channel, sock));
      }
    }
  }
  await new Promise(r => setTimeout(r, relaying ? STATE_EVERY_MS : delay));
  delay = Math.min(
    delay * 1.5,
    Date.now() - waitingSince < QUICK_FOR_MS
      ? STARTING_EVERY_MS
      : STATE_EVERY_MS
  );
}
