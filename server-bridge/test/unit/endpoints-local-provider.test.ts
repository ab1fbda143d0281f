/**
 * The local provider with real child processes (a tiny Node HTTP server as the "model
 * server"): spawn without a shell, free port, process group, SIGTERM then SIGKILL, logs,
 * time limit, adoption by a new provider instance; the account, limits and key hand-over
 * (with a recording spawn), and the cap per user; a program that the machine still
 * builds (a path that appears later) makes the replica wait instead of fail.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LocalProvider,
  type ILocalProviderOptions
} from '../../src/endpoints/local-provider';
import {
  limitedArgv,
  lookupAccount
} from '../../src/endpoints/local-processes';
import type { IReplicaSpec } from '../../src/endpoints/ports';

const KEY = 'k'.repeat(32);
/** As root (the stack, CI containers) replicas must run as another account. */
const RUN_AS = process.getuid?.() === 0 ? lookupAccount('nobody') : undefined;

/** An idle process with the options given, less the account (the test may not be root). */
function idle(options: SpawnOptions) {
  const rest = { ...options };
  delete rest.uid;
  delete rest.gid;
  return spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], rest);
}

function provider(
  options: Partial<ILocalProviderOptions> & { dir: string }
): LocalProvider {
  return new LocalProvider({
    maxReplicas: 2,
    maxReplicasPerUser: 2,
    ...(RUN_AS === undefined ? {} : { runAs: RUN_AS }),
    ...options
  });
}

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
    upstreamKey: KEY,
    keyEnv: 'LLAMA_API_KEY',
    resources: { cpus: 1, memoryMB: 100, gpus: 0, timeMinutes }
  };
}

async function until<T>(fn: () => Promise<T | null>): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = await fn();
    if (v !== null) {
      return v;
    }
    await new Promise(r => setTimeout(r, 50));
  }
  throw new Error('gave up waiting');
}

async function get(port: number): Promise<string | null> {
  try {
    return await (await fetch(`http://127.0.0.1:${port}/health`)).text();
  } catch {
    return null;
  }
}

/** Whether `pid` still runs: an exited child its parent has not reaped yet (a zombie) does not. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return (
      stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
    );
  } catch {
    return false;
  }
}

describe('LocalProvider', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hpcb-local-'));

  it('starts the argv on a free port of 127.0.0.1, logs to a file, stops the process group', async () => {
    const p = provider({
      dir,
      maxReplicas: 2,
      // node reserves ~1 GiB of address space at start
      limits: { memoryHeadroomMB: 1024, nice: 7 }
    });
    const h = await p.start(spec('r1'));
    const st = await p.status(h);
    expect(st).toMatchObject({ state: 'running', host: '127.0.0.1' });
    if (st.state !== 'running') {
      throw new Error('not running');
    }
    expect(await until(() => get(st.port))).toBe('/health');
    // prlimit and nice have exec'd the recipe: same pid, its argv, under the limits.
    const pid = Number(h.ref.pid);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline[0]).toBe(process.execPath);
    expect(cmdline.join(' ')).not.toContain(KEY);
    expect(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')).toContain(
      `LLAMA_API_KEY=${KEY}`
    );
    expect(readFileSync(`/proc/${pid}/limits`, 'utf8')).toMatch(
      new RegExp(`Max address space\\s+${(100 + 1024) * 1024 * 1024}\\s`)
    );
    expect(readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[18]).toBe('7');
    const uid = /\nUid:\s+(\d+)/.exec(
      readFileSync(`/proc/${pid}/status`, 'utf8')
    )?.[1];
    expect(Number(uid)).toBe(RUN_AS?.uid ?? process.getuid?.());
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
    const p = provider({ dir, maxReplicas: 2 });
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
    const p = provider({ dir, maxReplicas: 2, stopGraceMs: 300 });
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
    const p = provider({ dir, maxReplicas: 1 });
    const h = await p.start(spec('r4'));
    await expect(p.start(spec('r5'))).rejects.toThrow(
      'At most 1 local replicas run at once on this bridge'
    );
    await p.stop(h);
  });

  it('a new provider instance (bridge restart) adopts running replicas and can stop them', async () => {
    const first = provider({ dir, maxReplicas: 2 });
    const h = await first.start(spec('r6'));
    const second = provider({ dir, maxReplicas: 2 });
    expect((await second.list()).map(x => x.handle.replicaId)).toEqual(['r6']);
    const st = await second.status(h);
    expect(st).toMatchObject({ state: 'running' });
    await second.stop(h);
    expect(alive(Number(h.ref.pid))).toBe(false);
    expect(await second.status(h)).toMatchObject({ state: 'gone' });
  });

  it('enforces the time limit', async () => {
    const p = provider({ dir, maxReplicas: 2, minuteMs: 300 });
    const h = await p.start(spec('r7', 'ok', 1));
    const st = await until(async () => {
      const s = await p.status(h);
      return s.state === 'running' ? null : s;
    });
    expect(st.state).toBe('gone');
    expect(alive(Number(h.ref.pid))).toBe(false);
  });

  it('a missing program fails the start', async () => {
    const p = provider({ dir, maxReplicas: 2 });
    await expect(
      p.start({
        ...spec('r8'),
        argv: ['/nonexistent/llama-server', '--port', '{port}']
      })
    ).rejects.toThrow(/cannot run \/nonexistent\/llama-server: .*ENOENT/);
  });

  it('spawns through prlimit and nice as the runAs account, the key in the environment only', async () => {
    const calls: { program: string; args: string[]; options: SpawnOptions }[] =
      [];
    const p = provider({
      dir,
      runAs: { name: 'hpcb-serve', uid: 4242, gid: 4343 },
      limits: { memoryHeadroomMB: 256, nice: 10 },
      spawn: (program, args, options) => {
        calls.push({ program, args: [...args], options });
        return idle(options);
      }
    });
    const h = await p.start(spec('r9'));
    const [call] = calls;
    expect(call?.program).toBe('/usr/bin/prlimit');
    expect(call?.args.slice(0, 6)).toEqual([
      `--as=${(100 + 256) * 1024 * 1024}`,
      '--core=0',
      '--',
      '/usr/bin/nice',
      '-n',
      '10'
    ]);
    expect(call?.args[6]).toBe(process.execPath);
    expect(call?.options).toMatchObject({
      uid: 4242,
      gid: 4343,
      detached: true,
      shell: false,
      cwd: '/'
    });
    expect(call?.options.env).toMatchObject({
      LLAMA_API_KEY: KEY,
      USER: 'hpcb-serve',
      HOME: '/'
    });
    expect(JSON.stringify([call?.program, call?.args])).not.toContain(KEY);
    expect(readFileSync(join(dir, 'r9.json'), 'utf8')).not.toContain(KEY);
    await p.stop(h);
  });

  it('gives each replica the key of its spec, in the variable the recipe names', async () => {
    const envs: NodeJS.ProcessEnv[] = [];
    const p = provider({
      dir,
      spawn: (_program, _args, options) => {
        envs.push(options.env ?? {});
        return idle(options);
      }
    });
    const other = 'o'.repeat(32);
    const a = await p.start(spec('r10'));
    const b = await p.start({
      ...spec('r11'),
      upstreamKey: other,
      keyEnv: 'VLLM_API_KEY'
    });
    expect(envs[0]?.LLAMA_API_KEY).toBe(KEY);
    expect(envs[1]?.VLLM_API_KEY).toBe(other);
    expect(envs[1]?.LLAMA_API_KEY).toBeUndefined();
    await p.stop(a);
    await p.stop(b);
  });

  it('refuses to run replicas as root', async () => {
    const p = provider({
      dir,
      runAs: { name: 'root', uid: 0, gid: 0 },
      spawn: () => {
        throw new Error('must not spawn');
      }
    });
    await expect(p.start(spec('r12'))).rejects.toThrow(
      /does not run replicas as root: set serving.providers.local.runAs/
    );
  });

  it('caps the endpoints of one user (a successor of the same endpoint does not count)', async () => {
    const p = provider({
      dir,
      maxReplicas: 8,
      maxReplicasPerUser: 2,
      spawn: (_program, _args, options) => idle(options)
    });
    const started = [
      await p.start({ ...spec('c1'), endpointId: 'e1' }),
      await p.start({ ...spec('c2'), endpointId: 'e2' })
    ];
    const refused = p.start({ ...spec('c3'), endpointId: 'e3' });
    await expect(refused).rejects.toThrow(
      'At most 2 endpoints of one user run on the local provider at once (maxReplicasPerUser)'
    );
    await expect(refused).rejects.toMatchObject({ noCapacity: true });
    started.push(await p.start({ ...spec('c4'), endpointId: 'e1' }));
    started.push(
      await p.start({ ...spec('c5'), endpointId: 'e3', owner: 'bob' })
    );
    for (const h of started) {
      await p.stop(h);
    }
    started.length = 0;
    started.push(await p.start({ ...spec('c6'), endpointId: 'e3' }));
    await p.stop(started[0]!);
  });

  it('limitedArgv leaves the argv alone without limits', () => {
    expect(limitedArgv(['/bin/x', '-a'], 100, undefined)).toEqual([
      '/bin/x',
      '-a'
    ]);
  });

  describe('a program the machine is still building', () => {
    /** Runnable by the runAs account: the program is a link to node, made later. */
    const root = mkdtempSync(join(tmpdir(), 'hpcb-build-'));
    chmodSync(root, 0o755);
    const status = join(root, 'status');
    let n = 0;

    function later(): { program: string; appear: () => void } {
      const bin = join(root, `bin${++n}`);
      const program = join(bin, 'llama-server');
      return {
        program,
        appear: () => {
          mkdirSync(bin, { mode: 0o755 });
          symlinkSync(process.execPath, program);
        }
      };
    }

    function building(state: string, pid = process.pid): void {
      writeFileSync(
        status,
        `state=${state}\nsince=2026-12-06T09:09:41+00:00\npid=${pid}\nlog=/var/log/llama-build.log\n`
      );
    }

    const waitingSpec = (id: string, program: string): IReplicaSpec => ({
      ...spec(id),
      argv: [program, ...spec(id).argv.slice(1)]
    });

    it('waits (pending, with a sentence) while it is built, then starts it and serves', async () => {
      const p = provider({ dir, maxReplicas: 1, buildStatus: status });
      const { program, appear } = later();
      building('building');
      const h = await p.start(waitingSpec('b1', program));
      expect(h.ref).toEqual({ waitingFor: program });
      const pending = await p.status(h);
      expect(pending).toEqual({
        state: 'pending',
        detail:
          'The model server is still being built on this machine (since 2026-12-06T09:09:41+00:00); the endpoint starts when it is ready'
      });
      expect((await p.list()).map(r => r.handle.replicaId)).toEqual(['b1']);
      // a waiting replica holds its slot
      await expect(
        p.start({ ...waitingSpec('b2', program), endpointId: 'e2' })
      ).rejects.toMatchObject({ noCapacity: true });

      appear();
      building('ready');
      const running = await p.status(h);
      expect(running.state).toBe('running');
      const port = running.state === 'running' ? running.port : 0;
      expect(await until(() => get(port))).toBe('/health');
      expect((await p.list()).map(r => r.handle.replicaId)).toEqual(['b1']);
      await p.stop(h);
      expect(await p.list()).toEqual([]);
    });

    it('fails the waiting replica when the build fails, naming its log', async () => {
      const p = provider({ dir, buildStatus: status });
      const { program } = later();
      building('building');
      const h = await p.start(waitingSpec('b3', program));
      expect((await p.status(h)).state).toBe('pending');
      building('failed');
      expect(await p.status(h)).toEqual({
        state: 'failed',
        reason: `${program} is missing: the model server's build on this machine failed (see /var/log/llama-build.log)`
      });
      expect(await p.list()).toEqual([]);
    });

    it('a build whose process is gone counts as failed: the start fails', async () => {
      const p = provider({ dir, buildStatus: status });
      const { program } = later();
      building('building', 99_999_999);
      await expect(p.start(waitingSpec('b4', program))).rejects.toThrow(
        /is missing: the model server's build on this machine failed/
      );
    });

    it('stopping a waiting replica forgets it; the program never runs', async () => {
      const p = provider({ dir, buildStatus: status });
      const { program, appear } = later();
      building('building');
      const h = await p.start(waitingSpec('b5', program));
      await p.stop(h);
      appear();
      expect(await p.list()).toEqual([]);
      expect(await p.status(h)).toEqual({
        state: 'gone',
        reason: 'unknown to the local provider'
      });
    });

    it('an installed program starts at once, whatever the status file says', async () => {
      const p = provider({ dir, buildStatus: status });
      building('building');
      const h = await p.start(spec('b6'));
      expect(h.ref.pid).toEqual(expect.any(Number));
      await p.stop(h);
    });
  });
});
