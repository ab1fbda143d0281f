/**
 * The local provider's copy of a user's model file runs beside the endpoint loop: the
 * replica waits with the copy's progress as its reason, other endpoints' steps go on,
 * endpoints that need the same file share one copy, and a failed copy fails the replica.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LocalModelPlacer } from '../../src/endpoints/model-placers';
import type { IModelFile } from '../../src/endpoints/ports';
import { controllerFixture, type IControllerFixture } from './endpoints-fakes';
import { bucket, storageFixture } from './storage-fakes';
import { userModelsConfig } from './user-models-fakes';

const MiB = 1024 * 1024;
const SIZE = 5 * MiB;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hpcb-model-copy-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A tier whose reads of the model give 2 MiB at once and the rest when `open` is called. */
function slowTier() {
  const fix = storageFixture();
  bucket(fix, 'hpc-archive').put('alice/big.gguf', Buffer.alloc(SIZE, 7));
  const gate: { open: () => void; fail: (e: Error) => void; reads: number } = {
    open: () => undefined,
    fail: () => undefined,
    reads: 0
  };
  const files = {
    read: async () => {
      gate.reads += 1;
      const held = new Promise<void>((resolve, reject) => {
        gate.open = resolve;
        gate.fail = reject;
      });
      async function* chunks() {
        yield Buffer.alloc(2 * MiB, 7);
        await held;
        yield Buffer.alloc(SIZE - 2 * MiB, 7);
      }
      return { body: Readable.from(chunks()), size: SIZE };
    }
  } as unknown as ConstructorParameters<
    typeof LocalModelPlacer
  >[0]['storage']['files'];
  const placer = new LocalModelPlacer({
    storage: { staging: fix.service.staging, files },
    dir: join(dir, 'models'),
    maxBytes: 10 * MiB
  });
  return { fix, gate, placer };
}

const FILE = {
  uri: 'archive:big.gguf',
  tier: 'archive',
  path: 'big.gguf',
  recipe: 'llama-server',
  sizeBytes: SIZE,
  groups: ['ml101']
};

function endpoint(f: IControllerFixture, id: string, modelFile = true) {
  f.controller.create({
    id,
    name: `chat-${id}`,
    // e3 is bob's: one user runs at most two endpoints on the local provider.
    owner: modelFile ? 'alice' : 'bob',
    model: modelFile ? 'big' : 'tiny-random',
    provider: 'local',
    resources: { cpus: 2, memoryMB: 1000, gpus: 0, timeMinutes: 60 },
    idleMinutes: 15,
    visibility: 'private',
    group: null,
    ...(modelFile ? { modelFile: FILE } : {})
  });
}

/** `p`, or a failure when it takes longer than a second (a step held by the copy). */
async function soon<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} was held`)), 1000);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

function world() {
  const tier = slowTier();
  const f = controllerFixture(
    userModelsConfig({ ...USER_MODELS_OPEN }),
    tier.fix.store,
    undefined,
    undefined,
    new Map([['local', tier.placer]])
  );
  return { ...tier, f };
}

const USER_MODELS_OPEN = {
  recipes: ['llama-server'],
  tierClasses: ['archive'],
  maxBytes: 10 * MiB
};

const replicaOf = (f: IControllerFixture, id: string) =>
  f.table.replicas(id)[0];
const startedFor = (f: IControllerFixture, id: string) =>
  [...f.provider.replicas.values()].filter(r => r.spec.endpointId === id);
const model: IModelFile = {
  ...FILE,
  owner: { name: 'alice', groups: ['ml101'] }
};

describe('copying a user model for the local provider', () => {
  it("does not hold other endpoints' steps, shows the progress, and starts the replica once copied", async () => {
    const w = world();
    endpoint(w.f, 'e1');
    endpoint(w.f, 'e2');
    endpoint(w.f, 'e3', false);

    await soon(w.f.controller.tick(), 'the tick');

    // The catalog endpoint started; the two on the file wait for one copy.
    expect(startedFor(w.f, 'e3')).toHaveLength(1);
    expect(startedFor(w.f, 'e1')).toHaveLength(0);
    for (const id of ['e1', 'e2']) {
      expect(replicaOf(w.f, id)).toMatchObject({
        state: 'pending',
        handle: null,
        reason: expect.stringMatching(/^copying model \([0-2] MiB of 5\)$/)
      });
    }
    expect(w.gate.reads).toBe(1);

    // Later steps show how far it has come, still without waiting.
    await new Promise(r => setTimeout(r, 20));
    await soon(w.f.controller.tick(), 'the second tick');
    expect(replicaOf(w.f, 'e1')?.reason).toBe('copying model (2 MiB of 5)');
    expect(startedFor(w.f, 'e1')).toHaveLength(0);

    w.gate.open();
    const path = await w.placer.place(model);
    expect(w.gate.reads).toBe(1);
    expect(readFileSync(path).length).toBe(SIZE);
    await w.f.controller.tick();
    for (const id of ['e1', 'e2']) {
      expect(startedFor(w.f, id).map(r => r.spec.modelPath)).toEqual([path]);
      expect(replicaOf(w.f, id)?.reason).toBeNull();
    }
  });

  it('fails the replica with the reason when the copy fails', async () => {
    const w = world();
    endpoint(w.f, 'e1');
    await soon(w.f.controller.tick(), 'the tick');
    expect(replicaOf(w.f, 'e1')?.state).toBe('pending');
    w.gate.fail(new Error('the tier stopped answering'));
    await expect(w.placer.place(model)).rejects.toThrow(
      'the tier stopped answering'
    );
    await w.f.controller.tick();
    expect(w.f.table.replicas('e1').at(-1)).toMatchObject({
      state: 'failed',
      reason: 'could not start: the tier stopped answering'
    });
    expect(startedFor(w.f, 'e1')).toHaveLength(0);
  });
});
