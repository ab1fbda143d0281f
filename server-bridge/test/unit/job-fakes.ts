/** In-memory fakes of the cluster ports for unit tests of the job service, poller and routes. */
import type { SshCredential } from '../../src/contract';
import type { IClusterAccess } from '../../src/credentials/access';
import { DomainError } from '../../src/domain-error';
import type {
  IAccountingRecord,
  IFileToWrite,
  IQueuePort,
  IQueueRecord,
  ITestOnlyResult,
  IUserClusterPort
} from '../../src/ports/slurm';

export class FakeCluster {
  files = new Map<string, Buffer>();
  /** The mode each file was written with. */
  modes = new Map<string, number>();
  dirs = new Set<string>();
  submitted: { script: string; workdir: string; user: string }[] = [];
  actions: string[] = [];
  queue: IQueueRecord[] = [];
  accounting: IAccountingRecord[] = [];
  queueCalls = 0;
  accountingCalls: string[][] = [];
  nextId = 100;
  /** The SLURM id of each job sbatch took, by working directory. */
  slurmIds: { workdir: string; slurmId: string }[] = [];
  /** Users whose key the cluster refuses. */
  refuse = new Set<string>();

  port(user: string): IUserClusterPort {
    const refuse = (): void => {
      if (this.refuse.has(user)) {
        throw Object.assign(
          new Error('All configured authentication methods failed'),
          {
            stage: 'connect',
            authFailed: true
          }
        );
      }
    };
    return {
      slurm: {
        submit: async (script, workdir) => {
          refuse();
          this.submitted.push({ script, workdir, user });
          const slurmId = String(this.nextId++);
          this.slurmIds.push({ workdir, slurmId });
          return slurmId;
        },
        jobsIn: async workdir => {
          refuse();
          return this.slurmIds
            .filter(j => j.workdir === workdir)
            .map(j => j.slurmId);
        },
        testOnly: async (): Promise<ITestOnlyResult> => {
          refuse();
          return {
            expectedStart: '2026-11-25T10:30:00.000Z',
            message: 'Job 1 to start at 2026-11-25T10:30:00'
          };
        },
        // As SLURM does: the queue shows the action's effect at once.
        cancel: async id => {
          this.actions.push(`${user}:cancel:${id}`);
          this.inQueue(id).forEach(r => (r.state = 'CANCELLED'));
        },
        hold: async id => {
          this.actions.push(`${user}:hold:${id}`);
          this.inQueue(id).forEach(r => (r.reason = 'JobHeldUser'));
        },
        release: async id => {
          this.actions.push(`${user}:release:${id}`);
          this.inQueue(id).forEach(r => (r.reason = null));
        }
      },
      files: {
        home: async () => {
          refuse();
          return `/home/${user}`;
        },
        mkdirp: async p => {
          this.dirs.add(p);
        },
        writeFile: async (p, d) => {
          this.files.set(p, Buffer.from(d));
        },
        readFile: async p => this.files.get(p) ?? null,
        readRange: async (p, offset, length) => {
          const f = this.files.get(p);
          return f === undefined ? null : f.subarray(offset, offset + length);
        },
        size: async p => this.files.get(p)?.length ?? null,
        writeAll: async (
          dirs: readonly string[],
          files: readonly IFileToWrite[]
        ) => {
          refuse();
          dirs.forEach(d => this.dirs.add(d));
          files.forEach(f => {
            this.files.set(f.path, Buffer.from(f.data));
            this.modes.set(f.path, f.mode ?? 0o600);
          });
        }
      },
      storage: () => {
        throw new Error('storage is not part of the job fakes');
      }
    };
  }

  /** The queue records of a job id (`12`: every element of array 12). */
  private inQueue(id: string): IQueueRecord[] {
    return this.queue.filter(r => r.key === id || String(r.baseId) === id);
  }

  queuePort(): IQueuePort {
    return {
      queue: async () => {
        this.queueCalls += 1;
        return this.queue;
      },
      accounting: async ids => {
        this.accountingCalls.push([...ids]);
        return this.accounting;
      }
    };
  }
}

export function fakeAccess(cluster: FakeCluster): IClusterAccess {
  const credential = (user: string): SshCredential => ({
    cluster: 'demo',
    clusterUser: user,
    publicKey: `ssh-ed25519 AAAA ${user}`,
    fingerprint: 'SHA256:x',
    instructions: 'append the key to ~/.ssh/authorized_keys'
  });
  return {
    credential: (_c, user) => credential(user),
    session: (_c, user) => cluster.port(user),
    run: async (_c, user, fn) => {
      try {
        return await fn(cluster.port(user));
      } catch (e) {
        if ((e as { authFailed?: boolean }).authFailed === true) {
          throw new DomainError(
            'cluster_auth_failed',
            'install the key',
            credential(user)
          );
        }
        throw e;
      }
    }
  };
}

export function queueRecord(
  key: string,
  state: string,
  extra: Partial<IQueueRecord> = {}
): IQueueRecord {
  const base = Number(key.split('_')[0]);
  return {
    key,
    jobId: base,
    baseId: base,
    state,
    reason: null,
    node: state === 'PENDING' ? null : 'node1',
    partition: 'cpu',
    priority: 1,
    user: 'alice',
    submitTime: 1,
    startTime: state === 'PENDING' ? 0 : 1795602400,
    endTime: 1795602410,
    exitStatus: 0,
    ...extra
  };
}
