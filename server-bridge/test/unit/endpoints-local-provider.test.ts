/**
 * The local provider with real child processes (a tiny Node HTTP server as the "model
 * server"): spawn without a shell, free port, process group, SIGTERM then SIGKILL, logs,
 * time limit, adoption by a new provider instance.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalProvider } from '../../src/endpoints/local-provider';
import type { IReplicaSpec } from '../../src/endpoints/ports';

const SERVER = `
const http = require('node:http');
const [port, host, mode] = process.argv.slice(1);
if (mode === 'crash') { console.error('model file is corrupt'); process.exit(3); }
if (mode === 'stubborn') { process.on('SIGTERM', () => console.log('ignoring SIGTERM')); }
http.createServer((req, res) => res.end(req.url)).listen(Number(port), host, () => console.log('listening on ' + port));
`;

function spec(replicaId: string, mode = 'ok', timeMinutes = 60): IReplicaSpec {
  return {
    endpointId: 'e1',
    replicaId,
    owner: 'alice',
    modelPath: '/m.gguf',
    argv: [process.execPath, '-e', SERVER, '{port}', '{host}', mode],
    upstreamKey: 'k'.repeat(32),
    resources: { cpus: 1, memoryMB: 100, gpus: 0, timeMinutes }
  };
}

async function until<T>(fn: () => Promise<T | null>): Promise<T> {
  for (;;) {
    const v = await fn();
    if (v !== null) {
      return v;
    }
    await new Promise(r => setTimeout(r, 50));
  }
}

async function get(port: number): Promise<string | null> {
  try {
    return await (await fetch(`http://127.0.0.1:${port}/health`)).text();
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('LocalProvider', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hpcb-local-'));

  it('starts the argv on a free port of 127.0.0.1, logs to a file, stops the process group', async () => {
    const p = new LocalProvider({ dir, maxReplicas: 2 });
    const h = await p.start(spec('r1'));
    const st = await p.status(h);
    expect(st).toMatchObject({ state: 'running', host: '127.0.0.1' });
    if (st.state !== 'running') {
      throw new Error('not running');
    }
    expect(await until(() => get(st.port))).toBe('/health');
    expect(readFileSync(join(dir, 'r1.log'), 'utf8')).toContain(
      `listening on ${st.port}`
    );
    expect(await p.list()).toEqual([
      { endpointId: 'e1', owner: 'alice', handle: h }
    ]);
    await p.stop(h);
    expect(await p.status(h)).toMatchObject({ state: 'gone' });
    expect(alive(Number(h.ref.pid))).toBe(false);
    expect(await p.list()).toEqual([]);
  });

  it('reports an exit as failed, with the tail of the log', async () => {
    const p = new LocalProvider({ dir, maxReplicas: 2 });
    const h = await p.start(spec('r2', 'crash'));
    const st = await until(async () => {
      const s = await p.status(h);
      return s.state === 'running' ? null : s;
    });
    expect(st).toEqual({
      state: 'failed',
      reason: 'exited with code 3: model file is corrupt'
    });
  });

  it('kills with SIGKILL what ignores SIGTERM', async () => {
    const p = new LocalProvider({ dir, maxReplicas: 2, stopGraceMs: 300 });
    const h = await p.start(spec('r3', 'stubborn'));
    const st = await p.status(h);
    if (st.state !== 'running') {
      throw new Error('not running');
    }
    await until(() => get(st.port));
    await p.stop(h);
    expect(alive(Number(h.ref.pid))).toBe(false);
    expect(readFileSync(join(dir, 'r3.log'), 'utf8')).toContain(
      'ignoring SIGTERM'
    );
  });

  it('refuses more than maxReplicas', async () => {
    const p = new LocalProvider({ dir, maxReplicas: 1 });
    const h = await p.start(spec('r4'));
    await expect(p.start(spec('r5'))).rejects.toThrow(
      'at most 1 local replicas run at once on this bridge'
    );
    await p.stop(h);
  });

  it('a new provider instance (bridge restart) adopts running replicas and can stop them', async () => {
    const first = new LocalProvider({ dir, maxReplicas: 2 });
    const h = await first.start(spec('r6'));
    const second = new LocalProvider({ dir, maxReplicas: 2 });
    expect((await second.list()).map(x => x.handle.replicaId)).toEqual(['r6']);
    const st = await second.status(h);
    expect(st).toMatchObject({ state: 'running' });
    await second.stop(h);
    expect(alive(Number(h.ref.pid))).toBe(false);
    expect(await second.status(h)).toMatchObject({ state: 'gone' });
  });

  it('enforces the time limit', async () => {
    const p = new LocalProvider({ dir, maxReplicas: 2, minuteMs: 300 });
    const h = await p.start(spec('r7', 'ok', 1));
    const st = await until(async () => {
      const s = await p.status(h);
      return s.state === 'running' ? null : s;
    });
    expect(st.state).toBe('gone');
    expect(alive(Number(h.ref.pid))).toBe(false);
  });

  it('a missing program fails the start', async () => {
    const p = new LocalProvider({ dir, maxReplicas: 2 });
    await expect(
      p.start({
        ...spec('r8'),
        argv: ['/nonexistent/llama-server', '--port', '{port}']
      })
    ).rejects.toThrow(/cannot run \/nonexistent\/llama-server: .*ENOENT/);
  });
});
