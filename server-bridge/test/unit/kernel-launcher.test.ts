/**
 * The cluster kernel launcher (stack/lab/cluster-kernel/launcher.mjs) against a fake
 * bridge: it holds early connections, starts the kernel with the file's key, relays bytes
 * once the kernel runs, and shuts the kernel down on SIGTERM within 1.5 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, createServer as netServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WebSocketServer } from 'ws';

const LAUNCHER = resolve(
  __dirname,
  '../../../stack/lab/cluster-kernel/launcher.mjs'
);

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof netServer>>(ok => {
          const s = netServer();
          s.listen(0, '127.0.0.1', () => ok(s));
        })
    )
  );
  const ports = servers.map(s => (s.address() as AddressInfo).port);
  await Promise.all(servers.map(s => new Promise(ok => s.close(ok))));
  return ports;
}

interface IFakeBridge {
  server: Server;
  url: string;
  calls: string[];
  bodies: unknown[];
  state: string;
  auth: string[];
}

async function fakeBridge(): Promise<IFakeBridge> {
  const b: IFakeBridge = {
    server: createServer(),
    url: '',
    calls: [],
    bodies: [],
    state: 'pending',
    auth: []
  };
  const kernel = () => ({
    id: 'abcdefabcdef',
    slurmId: '42',
    profile: 'cpu-small',
    state: b.state,
    node: b.state === 'pending' ? null : 'node1',
    queuePosition: b.state === 'pending' ? 1 : null,
    pendingReason: b.state === 'pending' ? 'Priority' : null,
    expectedStart: null,
    walltimeEnd: null,
    endedReason: null
  });
  b.server.on('request', (req, res) => {
    let text = '';
    req.on('data', c => (text += String(c)));
    req.on('end', () => {
      b.calls.push(`${req.method} ${req.url}`);
      b.auth.push(req.headers.authorization ?? '');
      if (text !== '') {
        b.bodies.push(JSON.parse(text));
      }
      res.setHeader('content-type', 'application/json');
      res.statusCode = req.method === 'POST' ? 201 : 200;
      res.end(
        JSON.stringify(
          req.url?.endsWith('/lease')
            ? { state: b.state, leaseUntil: new Date().toISOString() }
            : kernel()
        )
      );
    });
  });
  // The kernel's channels: echo with a prefix naming the channel.
  const wss = new WebSocketServer({ server: b.server });
  wss.on('connection', (ws, req) => {
    b.calls.push(`WS ${req.url}`);
    const channel = req.url?.split('/').pop() ?? '';
    ws.on('message', data =>
      ws.send(Buffer.concat([Buffer.from(`${channel}:`), data as Buffer]))
    );
  });
  await new Promise<void>(ok => b.server.listen(0, '127.0.0.1', ok));
  const { port } = b.server.address() as AddressInfo;
  b.url = `http://127.0.0.1:${port}/services/hpc-bridge/`;
  return b;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise(ok => child.once('exit', code => ok(code)));
}

interface ILaunched {
  child: ChildProcess;
  /** The connection file's shell port. */
  shellPort: number;
  /** What the launcher has written to stderr so far. */
  stderr: string;
}

/**
 * Writes a connection file named `fileName` (the launcher reads the Jupyter kernel id from
 * the name) on five free ports, with `connection`'s keys besides, and starts the launcher
 * on it against `bridge` with the server's token `token`.
 */
async function launch(
  bridge: IFakeBridge,
  fileName: string,
  connection: Record<string, string>,
  token: string
): Promise<ILaunched> {
  const dir = mkdtempSync(join(tmpdir(), 'launcher-'));
  const [shell, iopub, stdin, control, hb] = await freePorts(5);
  const file = join(dir, fileName);
  writeFileSync(
    file,
    JSON.stringify({
      ...connection,
      ip: '127.0.0.1',
      shell_port: shell,
      iopub_port: iopub,
      stdin_port: stdin,
      control_port: control,
      hb_port: hb
    })
  );
  const child = spawn(
    process.execPath,
    [LAUNCHER, '--profile', 'cpu-small', '-f', file],
    {
      env: {
        PATH: process.env.PATH ?? '',
        HPC_BRIDGE_URL: bridge.url,
        JUPYTERHUB_API_TOKEN: token
      }
    }
  );
  const launched: ILaunched = { child, shellPort: shell ?? 0, stderr: '' };
  child.stderr?.on('data', c => (launched.stderr += String(c)));
  return launched;
}

describe('the cluster kernel launcher', () => {
  let bridge: IFakeBridge;
  afterEach(async () => {
    bridge.server.closeAllConnections();
    await new Promise(ok => bridge.server.close(ok));
  });

  it('holds early connections, relays once running, and DELETEs on SIGTERM', async () => {
    bridge = await fakeBridge();
    const launched = await launch(
      bridge,
      'kernel-6f1c1e7a-0000-4000-8000-000000000001.json',
      {
        transport: 'tcp',
        key: 'the-hmac-key',
        signature_scheme: 'hmac-sha256'
      },
      'server-token'
    );
    const { child } = launched;
    try {
      // An early connection (before the kernel runs) is held, then relayed.
      const sock = await new Promise<ReturnType<typeof connect>>((ok, ko) => {
        const tryConnect = (n: number) => {
          const s = connect(launched.shellPort, '127.0.0.1', () => ok(s));
          s.once('error', e =>
            n > 50 ? ko(e) : setTimeout(() => tryConnect(n + 1), 50)
          );
        };
        tryConnect(0);
      });
      const reply = new Promise<string>(ok =>
        sock.once('data', d => ok(String(d)))
      );
      sock.write('ping');
      await new Promise(ok => setTimeout(ok, 300));
      expect(bridge.calls.filter(c => c.startsWith('WS'))).toEqual([]);
      bridge.state = 'running';
      expect(await reply).toBe('shell:ping');
      expect(bridge.bodies[0]).toEqual({
        profile: 'cpu-small',
        jupyterKernelId: '6f1c1e7a-0000-4000-8000-000000000001',
        connection: { key: 'the-hmac-key', signatureScheme: 'hmac-sha256' }
      });
      expect(new Set(bridge.auth)).toEqual(new Set(['token server-token']));
      expect(launched.stderr).toContain(
        'waiting for the cluster (job 42: position 1'
      );
      const t0 = Date.now();
      const code = exited(child);
      child.kill('SIGTERM');
      expect(await code).toBe(0);
      expect(Date.now() - t0).toBeLessThan(1500);
      expect(bridge.calls).toContain(
        'DELETE /services/hpc-bridge/api/v1/kernels/abcdefabcdef'
      );
      expect(bridge.calls).toContain(
        'WS /services/hpc-bridge/api/v1/kernels/abcdefabcdef/channels/shell'
      );
      sock.destroy();
    } finally {
      child.kill('SIGKILL');
    }
  }, 20_000);

  it('exits non-zero with the reason when the job ends', async () => {
    bridge = await fakeBridge();
    bridge.state = 'failed';
    const launched = await launch(
      bridge,
      'kernel-1.json',
      { key: 'k', signature_scheme: 'hmac-sha256' },
      't'
    );
    expect(await exited(launched.child)).toBe(3);
    expect(launched.stderr).toContain("the kernel's job 42 has failed");
  }, 20_000);
});
