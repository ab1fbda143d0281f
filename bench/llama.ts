/**
 * llama-server as the benchmarks start it by hand (the baselines of the gateway and the
 * cold-start benches): the catalog recipe's arguments on a free port with a key.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';

export const LLAMA_SERVER =
  process.env.BENCH_GATEWAY_LLAMA_SERVER ??
  '/opt/hpc-bridge/llama/bin/llama-server';

/** The recipe's arguments (stack/conf/bridge-config.yaml) for a model on host:port. */
export function llamaArgs(
  modelPath: string,
  port: number,
  key: string
): string[] {
  return [
    '-m',
    modelPath,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--api-key',
    key,
    '-t',
    '1',
    '-c',
    '512',
    '--chat-template',
    'chatml'
  ];
}

export const sleep = (ms: number): Promise<void> =>
  new Promise(r => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port'))
      );
    });
  });
}

export const newKey = (): string => randomBytes(16).toString('hex');

/**
 * Polls `http://127.0.0.1:PORT/health` every `everyMs` until it answers 200; throws after
 * `timeoutMs` or when `failed()` says the server is gone.
 */
export async function waitHealthy(
  port: number,
  options: { everyMs: number; timeoutMs: number; failed?: () => string | null }
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const failure = options.failed?.() ?? null;
    if (failure !== null) {
      throw new Error(failure);
    }
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).status === 200) {
        return;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(
        `llama-server on port ${port} not healthy after ${options.timeoutMs / 1000} s`
      );
    }
    await sleep(options.everyMs);
  }
}

/** A llama-server child of this process, healthy, with its port and key. */
export async function startLlamaServer(
  modelPath: string,
  everyMs = 100
): Promise<{ port: number; key: string; child: ChildProcess }> {
  const port = await freePort();
  const key = newKey();
  const child = spawn(LLAMA_SERVER, llamaArgs(modelPath, port, key), {
    stdio: ['ignore', 'ignore', 'pipe']
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  try {
    await waitHealthy(port, {
      everyMs,
      timeoutMs: 60_000,
      failed: () =>
        child.exitCode === null
          ? null
          : `llama-server exited (${child.exitCode}):\n${log}`
    });
  } catch (err) {
    child.kill();
    throw err;
  }
  return { port, key, child };
}
