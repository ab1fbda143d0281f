/** Two bridge replicas' stores on one SQLite file, and jobs to publish between them. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job, JobState } from '../../src/contract';
import { Store } from '../../src/store';
import { BRIDGE_SCOPE, HUB_USERS } from './app-fixture';

export interface ITwoStores {
  a: Store;
  b: Store;
  close: () => void;
}

/** Two connections to one database file (WAL), as two replicas hold them. */
export function twoStores(): ITwoStores {
  const dir = mkdtempSync(join(tmpdir(), 'bridge-replicas-'));
  const path = join(dir, 'bridge.db');
  const a = new Store(path);
  const b = new Store(path);
  return {
    a,
    b,
    close: () => {
      a.close();
      b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

export function job(owner: string, id: string, state: JobState): Job {
  return {
    id,
    owner,
    cluster: 'demo',
    name: `${id}.ipynb`,
    notebookPath: `${id}.ipynb`,
    profile: 'cpu-small',
    partition: 'cpu',
    resources: { timeMinutes: 10, cpus: 1, memoryMB: 500, gpus: 0 },
    state,
    slurmId: '42',
    isArray: false,
    elements: [],
    queuePosition: null,
    expectedStart: null,
    submittedAt: '2030-01-01T00:00:00.000Z',
    updatedAt: '2030-01-01T00:00:00.000Z',
    resubmittedFrom: null
  };
}

/** A logger that says nothing, for the replicas' services. */
export const quiet = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined
};

/** Lets bob (no groups) call the app fixture's routes, beside alice. */
export function allowBob(): void {
  HUB_USERS['bob-token'] = {
    kind: 'user',
    name: 'bob',
    admin: false,
    groups: [],
    scopes: [BRIDGE_SCOPE, 'access:servers!user=bob']
  };
}
