/**
 * Cold start: a request to an endpoint with no replica is held until one is ready. The
 * time to the first answer (a 1-token chat completion) of a new endpoint of the demo
 * model, from `POST /endpoints` to the answer through the gateway, against the same
 * model server started by hand on the same provider and polled every 20 ms:
 *
 *   local:  spawn llama-server with the recipe's arguments on this host;
 *   slurm:  `ssh alice@login sbatch --wrap 'llama-server …'` over a kept-open connection,
 *           on the endpoint's partition and resources (the cluster idle), its port
 *           polled from here;
 *   openstack: when the catalog offers it (./stack/up --with-openstack), the bridge side
 *           only: a cloud server has no by-hand twin here, so the row has no baseline.
 *
 * The difference of the medians is what the bridge adds: the submit, noticing readiness
 * and routing. A new endpoint's first request takes the path of a request that wakes a
 * scaled-to-zero endpoint (a replica submitted, its readiness awaited while the request
 * is held, then routed), without the minute of idleness before it.
 * Env: BENCH_COLDSTART_ROUNDS (default 5), BENCH_COLDSTART_PROVIDERS (default
 * local,slurm,openstack; those the catalog lacks are skipped), BENCH_COLDSTART_MODEL,
 * BENCH_COLDSTART_PARTITION (the slurm provider's, default gpu).
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import {
  type Endpoint,
  type EndpointKeyCreated,
  type ModelCatalog,
  Routes
} from '../server-bridge/src/contract';
import {
  bridge,
  createUserToken
} from '../server-bridge/test/integration/stack';
import {
  LLAMA_SERVER,
  freePort,
  llamaArgs,
  newKey,
  waitHealthy
} from './llama';
import { record, recordComparison } from './results';
import { onIdleCluster } from './cluster-idle';
import { sshAlice } from './ssh';
import { alternate, compare, report, spread } from './stats';

const ROUNDS = Number(process.env.BENCH_COLDSTART_ROUNDS ?? 5);
const MODEL = process.env.BENCH_COLDSTART_MODEL ?? 'tiny-random';
const PROVIDERS = (
  process.env.BENCH_COLDSTART_PROVIDERS ?? 'local,slurm,openstack'
).split(',');
const MODEL_PATH = `/opt/hpc-bridge/models/${MODEL}.gguf`;
const POLL_MS = 20;
/** The slurm provider's partition (stack/conf/bridge-config.yaml). */
const PARTITION = process.env.BENCH_COLDSTART_PARTITION ?? 'gpu';
const START_TIMEOUT_MS = 300_000;

/** A 1-token completion at `baseUrl` (`…/v1`); throws unless 200. */
async function firstAnswer(baseUrl: string, key: string): Promise<void> {
  const res = await fetch(`${baseUrl}/chat/completions`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${key}`,
      'Content-Type': 'application/json'
    },
    body: JSON.stringify({
      model: MODEL,
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 1
    }),
    signal: AbortSignal.timeout(START_TIMEOUT_MS)
  });
  const text = await res.text();
  if (res.status !== 200) {
    throw new Error(`${baseUrl}: ${res.status} ${text.slice(0, 300)}`);
  }
}

/** Baseline `local`: spawn, poll, answer; ms from the spawn to the answer. */
async function localByHand(): Promise<number> {
  const port = await freePort();
  const key = newKey();
  const start = performance.now();
  const child = spawn(LLAMA_SERVER, llamaArgs(MODEL_PATH, port, key), {
    stdio: 'ignore'
  });
  try {
    await waitHealthy(port, {
      everyMs: POLL_MS,
      timeoutMs: START_TIMEOUT_MS,
      failed: () =>
        child.exitCode === null
          ? null
          : `llama-server exited (${child.exitCode})`
    });
    await firstAnswer(`http://127.0.0.1:${port}/v1`, key);
    return performance.now() - start;
  } finally {
    child.kill();
  }
}

/** Baseline `slurm`: sbatch by hand as the endpoint's replica job would ask, poll, answer. */
function slurmByHand(
  resources: Endpoint['resources'],
  partition: string
): () => Promise<number> {
  return async () => {
    const port = await freePort();
    const key = newKey();
    const server = [LLAMA_SERVER, ...llamaArgs(MODEL_PATH, port, key)].join(
      ' '
    );
    const start = performance.now();
    const jobId = sshAlice(
      [
        'sbatch --parsable --output=/dev/null',
        `--partition=${partition}`,
        `--cpus-per-task=${resources.cpus}`,
        `--mem=${resources.memoryMB}`,
        resources.gpus > 0 ? `--gres=gpu:${resources.gpus}` : '',
        `--time=${resources.timeMinutes}`,
        `--wrap='exec ${server}'`
      ].join(' '),
      true
    );
    try {
      await waitHealthy(port, {
        everyMs: POLL_MS,
        timeoutMs: START_TIMEOUT_MS
      });
      await firstAnswer(`http://127.0.0.1:${port}/v1`, key);
      return performance.now() - start;
    } finally {
      sshAlice(`scancel ${jobId}`, true);
    }
  };
}

/** Through the bridge: create the endpoint, make a key, send (held until ready). */
function viaBridge(
  token: string,
  gatewayUrl: string,
  provider: string,
  made: Endpoint[]
): () => Promise<number> {
  return async () => {
    const start = performance.now();
    const created = await bridge(Routes.endpoints, token, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name: `coldstart-${provider}-${Date.now().toString(36)}`,
        model: MODEL,
        provider
      })
    });
    if (created.status !== 201) {
      throw new Error(
        `create endpoint: ${created.status} ${JSON.stringify(created.body)}`
      );
    }
    const endpoint = created.body as Endpoint;
    made.push(endpoint);
    try {
      const key = await bridge(Routes.endpointKeys(endpoint.id), token, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'coldstart' })
      });
      if (key.status !== 201) {
        throw new Error(
          `create key: ${key.status} ${JSON.stringify(key.body)}`
        );
      }
      await firstAnswer(gatewayUrl, (key.body as EndpointKeyCreated).key);
      return performance.now() - start;
    } finally {
      await bridge(Routes.endpoint(endpoint.id), token, { method: 'DELETE' });
    }
  };
}

async function main(): Promise<void> {
  const token = await createUserToken('alice');
  const got = await bridge(Routes.modelCatalog, token);
  if (got.status !== 200) {
    throw new Error(`model catalog: ${got.status} ${JSON.stringify(got.body)}`);
  }
  const catalog = got.body as ModelCatalog;
  const gatewayUrl = catalog.gatewayUrl.replace(/\/+$/, '');
  const offered = new Set<string>(catalog.providers.map(p => p.name));
  const made: Endpoint[] = [];
  for (const provider of PROVIDERS) {
    if (!offered.has(provider)) {
      process.stdout.write(
        `\n## cold start, ${provider}: not offered here, skipped\n`
      );
      continue;
    }
    const target = viaBridge(token, gatewayUrl, provider, made);
    const what = `time to the first answer of a new ${provider} endpoint (held request)`;
    if (provider === 'openstack') {
      const times: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        times.push(await target());
      }
      const s = spread(times);
      process.stdout.write(
        `\n## cold start, openstack: median ${(s.median / 1000).toFixed(2)} s (${(s.min / 1000).toFixed(2)}–${(s.max / 1000).toFixed(2)})\n`
      );
      record({
        bench: 'coldstart',
        metric: what,
        value: s.median / 1000,
        unit: 's',
        baseline: 'none: a cloud server has no by-hand twin in this stack',
        baselineValue: s.median / 1000,
        better: 'lower',
        note: `median of ${ROUNDS} rounds (${(s.min / 1000).toFixed(2)}–${(s.max / 1000).toFixed(2)} s): boot of a cloud server, llama-server's start, the bridge's part`
      });
      continue;
    }
    let byHand: () => Promise<number> = localByHand;
    let measured = target;
    let setup = 'spawned on this host';
    if (provider === 'slurm') {
      // The partition and resources the endpoint's replica job asks for.
      const model = catalog.models.find(m => m.name === MODEL);
      if (model === undefined) {
        throw new Error(`the catalog has no model ${MODEL}`);
      }
      const resources = Object.fromEntries(
        Object.entries(model.resources).map(([k, range]) => [k, range.default])
      ) as Endpoint['resources'];
      byHand = onIdleCluster(PARTITION, slurmByHand(resources, PARTITION));
      measured = onIdleCluster(PARTITION, target);
      setup = `sbatch --wrap on partition ${PARTITION} over an open ssh connection, each round on an idle partition`;
    }
    await byHand(); // page cache, the first process start
    const runs = await alternate(ROUNDS, byHand, measured);
    const c = compare(
      runs.target.map(ms => ms / 1000),
      runs.baseline.map(ms => ms / 1000)
    );
    report(
      `cold start, ${provider}: ${what}`,
      {
        baseline: `${MODEL} started by hand (${setup})`,
        target: 'POST /endpoints, key, held request'
      },
      c,
      's'
    );
    recordComparison(
      {
        bench: 'coldstart',
        metric: what,
        unit: 's',
        baseline: `the same llama-server started by hand and polled every ${POLL_MS} ms (${setup})`,
        better: 'lower',
        note: `the bridge adds ${(c.target.median - c.baseline.median).toFixed(2)} s (of the medians): submit, noticing readiness, routing; ${MODEL}`
      },
      c
    );
  }
  if (made.length === 0) {
    throw new Error('no provider was measured');
  }
}

main().catch((err: Error) => {
  // fetch's own message ("fetch failed") says nothing; its cause names the socket error.
  process.stderr.write(`${err.stack ?? String(err)}\n`);
  if (err.cause !== undefined) {
    process.stderr.write(`cause: ${String(err.cause)}\n`);
  }
  process.exit(1);
});
