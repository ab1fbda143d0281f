/** Cluster kernels: submit, limits, states from the queue, lease expiry, idle cull. */
import { renderKernelScript } from '../../src/adapters/ssh/kernel-script';
import { KernelPoller } from '../../src/kernels/poller';
import { KernelService } from '../../src/kernels/service';
import { queueRecord } from './job-fakes';
import {
  ALICE,
  BOB,
  START,
  kernelAccess,
  kernelConfig,
  kernelFixture
} from './kernel-fakes';
import { refusal } from './refusal';

/** ipykernel's own rewrite of the connection file: `kernel_name` added. */
function written(dir: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      shell_port: 1,
      iopub_port: 2,
      stdin_port: 3,
      control_port: 4,
      hb_port: 5,
      ip: `${dir}/k`,
      key: START.connection.key,
      transport: 'ipc',
      signature_scheme: 'hmac-sha256',
      kernel_name: ''
    })
  );
}

describe('kernel specs', () => {
  it('offers the profiles the admin enabled, named after them', () => {
    const f = kernelFixture();
    expect(f.service.specs(ALICE)).toEqual([
      {
        name: 'hpcb-cpu-small',
        displayName: 'Python 3 on cluster — Small CPU',
        profile: 'cpu-small',
        language: 'python'
      }
    ]);
  });

  it('refuses a config that enables a profile that does not exist', () => {
    expect(() => kernelConfig({ profiles: ['nope'] })).toThrow(
      /kernels\.profiles\[0\]: no profile named "nope"/
    );
  });
});

describe('starting a kernel', () => {
  it('writes the key to a 0600 file only, and submits ipykernel over ipc as the user', async () => {
    const f = kernelFixture();
    const k = await f.service.start(ALICE, START);
    const dir = `/home/alice/.hpc-bridge/kernels/${k.id}`;
    expect(k).toMatchObject({
      owner: 'alice',
      state: 'pending',
      slurmId: '100',
      profile: 'cpu-small',
      resources: { timeMinutes: 60, cpus: 1, memoryMB: 1000, gpus: 0 }
    });
    // The connection file: 0600, ipc transport on sockets in the runtime folder.
    const file = `${dir}/kernel.json`;
    expect(f.cluster.modes.get(file)).toBe(0o600);
    expect(f.cluster.dirs.has(dir)).toBe(true);
    expect(JSON.parse(f.cluster.files.get(file)?.toString() ?? '')).toEqual({
      transport: 'ipc',
      ip: `${dir}/k`,
      shell_port: 1,
      iopub_port: 2,
      stdin_port: 3,
      control_port: 4,
      hb_port: 5,
      key: START.connection.key,
      signature_scheme: 'hmac-sha256'
    });
    // sbatch as alice, the script on stdin, without the key.
    expect(f.cluster.scripts).toHaveLength(1);
    const { script, workdir, user } = f.cluster.scripts[0]!;
    expect(user).toBe('alice');
    expect(workdir).toBe(dir);
    expect(script).not.toContain(START.connection.key);
    expect(script).toContain(
      `exec /usr/bin/python3 -m ipykernel_launcher -f ${file}\n`
    );
    expect(script).toContain(`#SBATCH --chdir=${dir}`);
    expect(script).toContain('umask 077');
    expect(script).toContain(`export HPCB_KERNEL_ID=${k.id}`);
    // Neither the store nor the audit holds the key.
    const dump = JSON.stringify(
      f.store.db.prepare('SELECT * FROM kernels').all()
    );
    expect(dump).not.toContain(START.connection.key);
    const audit = JSON.stringify(
      f.store.db.prepare('SELECT * FROM audit').all()
    );
    expect(audit).toContain('kernel.start');
    expect(audit).not.toContain(START.connection.key);
    expect(f.emitted).toEqual([`${k.id}:pending`]);
  });

  it("checks the profile's limits as batch jobs do", async () => {
    const f = kernelFixture();
    const e = await refusal(
      f.service.start(ALICE, { ...START, resources: { cpus: 9 } })
    );
    expect(e.code).toBe('bad_request');
    expect(e.message).toContain('cpus=9 (allowed 1–4)');
    const other = await refusal(
      f.service.start(ALICE, { ...START, profile: 'batch-only' })
    );
    expect(other.message).toBe(
      'Profile "batch-only" is not offered to you as a cluster kernel'
    );
    expect(f.cluster.scripts).toHaveLength(0);
  });

  it('gives the kernel its tiers, and a sensitive tier only on a compliant partition', async () => {
    const tiers = {
      storage: {
        tiers: [
          {
            name: 'scratch',
            title: 'Scratch',
            class: 'scratch',
            sftp: { cluster: 'demo', path: '/scratch/{user}' }
          },
          {
            name: 'secure',
            title: 'Secure',
            class: 'sensitive',
            sftp: { cluster: 'demo', path: '/secure/{group}' },
            read: ['medical'],
            write: ['medical']
          }
        ]
      }
    };
    const f = kernelFixture(kernelConfig({}, tiers));
    const doctor = { ...ALICE, groups: ['medical'] };
    const k = await f.service.start(doctor, { ...START, tiers: ['scratch'] });
    expect(k.tiers).toEqual(['scratch']);
    expect(f.cluster.scripts[0]?.script).toContain(
      'export HPCB_TIER_SCRATCH=/scratch/alice'
    );
    const e = await refusal(
      f.service.start(doctor, { ...START, tiers: ['secure:medical'] })
    );
    expect(e.code).toBe('policy_refused');
    expect(e.message).toContain('partition cpu is not compliant');
    expect(f.cluster.scripts).toHaveLength(1);
    const audit = JSON.stringify(
      f.store.db.prepare('SELECT * FROM audit').all()
    );
    expect(audit).toContain('refused');
  });

  it('removes the runtime folder when sbatch refuses', async () => {
    const f = kernelFixture();
    const port = f.cluster.withKernels.bind(f.cluster);
    f.cluster.withKernels = user => {
      const p = port(user);
      return {
        ...p,
        kernels: {
          ...p.kernels!,
          submitScript: async () => {
            throw new Error('sbatch: error: invalid partition');
          }
        }
      };
    };
    const e = await refusal(f.service.start(ALICE, START));
    expect(e.code).toBe('bad_request');
    expect(f.cluster.removed).toHaveLength(1);
    expect(f.service.list(ALICE)).toEqual([]);
  });
});

describe('kernel states from the queue', () => {
  it('pending with reason and position, starting, running once ipykernel wrote its file', async () => {
    const f = kernelFixture();
    const k = await f.service.start(ALICE, START);
    const dir = `/home/alice/.hpc-bridge/kernels/${k.id}`;
    f.cluster.queue = [
      queueRecord('99', 'PENDING', { priority: 5 }),
      queueRecord('100', 'PENDING', {
        reason: 'Resources',
        startTime: 1796637600
      })
    ];
    expect(await f.poller.tick()).toBe('pending');
    expect(f.service.get(ALICE, k.id)).toMatchObject({
      state: 'pending',
      pendingReason: 'Resources',
      queuePosition: 2,
      expectedStart: '2026-12-07T10:00:00.000Z'
    });
    f.cluster.queue = [
      queueRecord('100', 'RUNNING', { node: 'node7', endTime: 1796641200 })
    ];
    // ipykernel starts on the node: the poller looks again within 200 ms, and opens the
    // way to the node meanwhile (once).
    expect(await f.poller.tick()).toBe('starting');
    expect(f.cluster.preparedNodes).toEqual(['alice:node7']);
    expect(f.service.get(ALICE, k.id)).toMatchObject({
      state: 'starting',
      node: 'node7',
      pendingReason: null,
      queuePosition: null,
      walltimeEnd: '2026-12-07T11:00:00.000Z'
    });
    // Relaying before the kernel listens: 409.
    expect(() => f.service.channel(ALICE, k.id, 'shell')).toThrow(
      /is starting, not running/
    );
    expect(await f.poller.tick()).toBe('starting');
    expect(f.cluster.preparedNodes).toEqual(['alice:node7']);
    f.cluster.files.set(`${dir}/kernel.json`, written(dir));
    expect(await f.poller.tick()).toBeNull();
    expect(f.service.get(ALICE, k.id).state).toBe('running');
    expect(f.service.channel(ALICE, k.id, 'iopub').path).toBe(`${dir}/k-2`);
    // One squeue per tick for all kernels, never one per kernel.
    expect(f.cluster.queueCalls).toBe(4);
    expect(f.emitted).toEqual([
      `${k.id}:pending`,
      `${k.id}:pending`,
      `${k.id}:starting`,
      `${k.id}:running`
    ]);
  });

  it("says how the job ended: SLURM's state as the reason", async () => {
    const f = kernelFixture();
    const k = await f.service.start(ALICE, START);
    f.cluster.queue = [queueRecord('100', 'TIMEOUT')];
    await f.poller.tick();
    expect(f.service.get(ALICE, k.id)).toMatchObject({
      state: 'failed',
      endedReason: 'TIMEOUT'
    });
    // Its folder (connection file with the key, sockets) goes with it.
    await new Promise(r => setImmediate(r));
    expect(f.cluster.removed).toEqual([
      `alice:/home/alice/.hpc-bridge/kernels/${k.id}`
    ]);
    const k2 = await f.service.start(ALICE, START);
    f.cluster.queue = [];
    f.cluster.accounting = [
      {
        key: k2.slurmId!,
        state: 'NODE_FAIL',
        reason: null,
        node: 'node3',
        exitCode: '0:0',
        elapsedSeconds: 5,
        startTime: null,
        endTime: null,
        maxRssMB: null
      }
    ];
    await f.poller.tick();
    expect(f.service.get(ALICE, k2.id)).toMatchObject({
      state: 'failed',
      endedReason: 'NODE_FAIL',
      node: 'node3'
    });
    expect(() => f.service.lease(ALICE, k2.id)).toThrow(/has ended \(failed/);
  });
});

describe('stopping, leases and idle kernels', () => {
  it('stop cancels the job as the owner and removes the runtime folder', async () => {
    const f = kernelFixture();
    const k = await f.service.start(ALICE, START);
    const stopped = await f.service.stop(ALICE, k.id);
    expect(stopped).toMatchObject({
      state: 'cancelled',
      endedReason: 'stopped by its owner'
    });
    expect(f.cluster.actions).toEqual(['alice:cancel:100']);
    expect(f.cluster.removed).toEqual([
      `alice:/home/alice/.hpc-bridge/kernels/${k.id}`
    ]);
  });

  it('is owner only: others get 404, admins see running kernels in their list', async () => {
    const f = kernelFixture();
    const k = await f.service.start(ALICE, START);
    for (const act of [
      () => f.service.get(BOB, k.id),
      () => f.service.lease(BOB, k.id),
      () => f.service.channel(BOB, k.id, 'shell')
    ]) {
      expect(act).toThrow(`No kernel ${k.id}`);
    }
    expect((await refusal(f.service.stop(BOB, k.id))).code).toBe('not_found');
    expect(f.service.list(BOB)).toEqual([]);
    expect(f.service.listActive().map(x => x.owner)).toEqual(['alice']);
    expect(f.cluster.actions).toEqual([]);
  });

  it('cancels a kernel whose lease expired (the launcher is gone)', async () => {
    const f = kernelFixture(kernelConfig({ leaseSeconds: 30 }));
    const k = await f.service.start(ALICE, START);
    f.clock.now += 20_000;
    expect(f.service.lease(ALICE, k.id).leaseUntil).toBe(
      '2026-12-07T10:00:50.000Z'
    );
    f.clock.now += 29_000;
    expect(await f.service.sweep()).toBe(0);
    f.clock.now += 2_000;
    expect(await f.service.sweep()).toBe(1);
    expect(f.service.get(ALICE, k.id)).toMatchObject({
      state: 'cancelled',
      endedReason: "the launcher's lease expired (its notebook server is gone)"
    });
    expect(f.cluster.actions).toEqual(['alice:cancel:100']);
    const audit = JSON.stringify(
      f.store.db.prepare('SELECT * FROM audit').all()
    );
    expect(audit).toContain('kernel.cull');
  });

  it("sweeps one cluster's kernels at a time: another cluster's poller leaves them alone", async () => {
    const f = kernelFixture(kernelConfig({ leaseSeconds: 30 }));
    const k = await f.service.start(ALICE, START);
    f.clock.now += 31_000;
    const other = new KernelPoller({
      cluster: 'demo2',
      queue: f.cluster.queuePort(),
      service: f.service,
      table: f.service.table,
      access: kernelAccess(f.cluster),
      events: f.events,
      logger: {
        info: () => undefined,
        warn: () => undefined,
        debug: () => undefined
      },
      intervalMs: 10_000
    });
    await other.tick();
    expect(await f.service.sweep('demo2')).toBe(0);
    expect(f.service.get(ALICE, k.id).state).toBe('pending');
    expect(f.cluster.actions).toEqual([]);
    await f.poller.tick();
    expect(f.service.get(ALICE, k.id).state).toBe('cancelled');
    expect(f.cluster.actions).toEqual(['alice:cancel:100']);
  });

  it('counts leases from its own start: a bridge that was down does not cancel every kernel', async () => {
    const config = kernelConfig({ leaseSeconds: 30 });
    const f = kernelFixture(config);
    const k = await f.service.start(ALICE, START);
    // The bridge is down for ten minutes, then starts again on the same store.
    f.clock.now += 10 * 60_000;
    const restarted = new KernelService({
      config,
      store: f.store,
      access: kernelAccess(f.cluster),
      script: renderKernelScript,
      events: f.events,
      logger: { info: () => undefined, warn: () => undefined },
      now: () => f.clock.now
    });
    expect(await restarted.sweep()).toBe(0);
    f.clock.now += 20_000;
    restarted.lease(ALICE, k.id);
    f.clock.now += 29_000;
    expect(await restarted.sweep()).toBe(0);
    f.clock.now += 2_000;
    expect(await restarted.sweep()).toBe(1);
  });

  it('culls a running kernel idle for idleMinutes; relayed traffic and a running cell keep it', async () => {
    const f = kernelFixture(
      kernelConfig({ idleMinutes: 10, leaseSeconds: 3600 })
    );
    const k = await f.service.start(ALICE, START);
    const dir = `/home/alice/.hpc-bridge/kernels/${k.id}`;
    f.cluster.queue = [queueRecord('100', 'RUNNING')];
    f.cluster.files.set(`${dir}/kernel.json`, written(dir));
    await f.poller.tick();
    expect(f.service.get(ALICE, k.id).state).toBe('running');
    f.clock.now += 9 * 60_000;
    f.service.touch(k.id);
    f.clock.now += 9 * 60_000;
    expect(await f.service.sweep()).toBe(0);
    // A cell that runs for an hour without output: a request, no reply yet.
    f.service.touch(k.id, 'request');
    f.clock.now += 30 * 60_000;
    f.service.lease(ALICE, k.id);
    f.clock.now += 30 * 60_000;
    expect(await f.service.sweep()).toBe(0);
    f.service.lease(ALICE, k.id);
    f.service.touch(k.id, 'reply');
    f.clock.now += 9 * 60_000;
    expect(await f.service.sweep()).toBe(0);
    f.clock.now += 60_000;
    expect(await f.service.sweep()).toBe(1);
    expect(f.service.get(ALICE, k.id)).toMatchObject({
      state: 'cancelled',
      endedReason: 'idle for 10 minutes'
    });
  });
});
