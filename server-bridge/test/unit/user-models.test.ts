/** Users' own model files: the registration rules, and how providers get the file. */
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IClusterAccess } from '../../src/credentials/access';
import { DomainError } from '../../src/domain-error';
import {
  LocalModelPlacer,
  SlurmModelPlacer
} from '../../src/endpoints/model-placers';
import { UserModelTable } from '../../src/endpoints/repository/user-models';
import { UserModels } from '../../src/endpoints/user-models';
import type { IUserClusterPort } from '../../src/ports/slurm';
import { bucket, storageFixture, type IStorageFixture } from './storage-fakes';
import {
  ALICE,
  aliceFiles,
  BOB,
  GGUF,
  userModelsConfig
} from './user-models-fakes';

function setup(config = userModelsConfig()) {
  const fix = storageFixture();
  aliceFiles(fix);
  const models = new UserModels({
    config,
    table: new UserModelTable(fix.store),
    storage: fix.service,
    store: fix.store
  });
  return { fix, models };
}

async function refusal(p: Promise<unknown>): Promise<[string, string]> {
  const e = await p.then(
    () => new Error('no refusal'),
    (x: unknown) => x
  );
  if (!(e instanceof DomainError)) {
    throw e;
  }
  return [e.code, e.message];
}

describe('registering a user model', () => {
  it('registers a GGUF file the user reads on an allowed tier, lists it as theirs and audits it', async () => {
    const { fix, models } = setup();
    const model = await models.register(ALICE, {
      name: 'mine',
      uri: 'archive:results/42/model.gguf'
    });
    expect(model).toMatchObject({
      name: 'mine',
      own: true,
      uri: 'archive:results/42/model.gguf',
      recipe: 'llama-server',
      sizeBytes: GGUF.length,
      providers: ['local']
    });
    expect(models.list(ALICE).map(m => m.name)).toEqual(['mine']);
    expect(models.find(ALICE, 'mine')?.file).toMatchObject({
      tier: 'archive',
      path: 'results/42/model.gguf',
      groups: ALICE.groups
    });
    const audit = fix.store.db
      .prepare("SELECT user, target FROM audit WHERE action = 'model.register'")
      .all();
    expect(audit).toEqual([{ user: 'alice', target: 'mine' }]);
  });

  it('refuses a tier class the admin did not open', async () => {
    const { models } = setup();
    expect(
      await refusal(
        models.register(ALICE, { name: 'm', uri: 'project:ml101/model.gguf' })
      )
    ).toEqual([
      'forbidden',
      'Tier project is of class project; user models may come from tiers of class archive, scratch (serving.userModels.tierClasses)'
    ]);
  });

  it('refuses a recipe that does not take user files, and an unknown one', async () => {
    const { models } = setup();
    const uri = 'archive:results/42/model.gguf';
    expect(
      await refusal(models.register(ALICE, { name: 'm', uri, recipe: 'vllm' }))
    ).toEqual([
      'forbidden',
      'Recipe vllm does not serve user model files (allowed: llama-server)'
    ]);
    expect(
      (
        await refusal(models.register(ALICE, { name: 'm', uri, recipe: 'x' }))
      )[0]
    ).toBe('bad_request');
  });

  it('refuses a file that is not GGUF for a llama-server recipe', async () => {
    const { models } = setup();
    expect(
      await refusal(
        models.register(ALICE, { name: 'm', uri: 'archive:notes.txt' })
      )
    ).toEqual([
      'bad_request',
      'archive:notes.txt is not a GGUF file (it does not start with "GGUF"); recipe llama-server serves GGUF models'
    ]);
  });

  it('refuses a file larger than maxBytes, a folder and a URI with placeholders', async () => {
    const { models } = setup();
    expect(
      await refusal(
        models.register(ALICE, { name: 'm', uri: 'archive:big.gguf' })
      )
    ).toEqual([
      'bad_request',
      'archive:big.gguf is larger than the 1000 bytes a user model may have (serving.userModels.maxBytes)'
    ]);
    expect(
      (
        await refusal(
          models.register(ALICE, { name: 'm', uri: 'archive:results' })
        )
      )[0]
    ).toBe('bad_request');
    expect(
      (
        await refusal(
          models.checkFile(ALICE, 'archive:results/{job}/model.gguf')
        )
      )[0]
    ).toBe('bad_request');
  });

  it("answers 404 for a missing file and for another user's file and model", async () => {
    const { models } = setup();
    expect(
      (
        await refusal(
          models.register(ALICE, { name: 'm', uri: 'archive:nope.gguf' })
        )
      )[0]
    ).toBe('not_found');
    await models.register(ALICE, {
      name: 'mine',
      uri: 'archive:results/42/model.gguf'
    });
    // archive is per user: bob's `results/42/model.gguf` is his own path, and empty
    expect(
      (
        await refusal(
          models.register(BOB, {
            name: 'm',
            uri: 'archive:results/42/model.gguf'
          })
        )
      )[0]
    ).toBe('not_found');
    expect(models.list(BOB)).toEqual([]);
    expect(models.find(BOB, 'mine')).toBeUndefined();
    expect(() => models.delete(BOB, 'mine')).toThrow(
      expect.objectContaining({ code: 'not_found' })
    );
    expect(models.list(ALICE)).toHaveLength(1);
    models.delete(ALICE, 'mine');
    expect(models.list(ALICE)).toEqual([]);
  });

  it('refuses a name taken by a catalog model or by one of the user models', async () => {
    const { fix, models } = setup();
    const uri = 'archive:results/42/model.gguf';
    expect(
      (await refusal(models.register(ALICE, { name: 'tiny-random', uri })))[0]
    ).toBe('conflict');
    await models.register(ALICE, { name: 'mine', uri });
    expect(
      (await refusal(models.register(ALICE, { name: 'mine', uri })))[0]
    ).toBe('conflict');
    // names are per user
    bucket(fix, 'hpc-archive').put('bob/m.gguf', GGUF);
    await expect(
      models.register(BOB, { name: 'mine', uri: 'archive:m.gguf' })
    ).resolves.toMatchObject({ name: 'mine' });
  });

  it('says how to open the feature while serving.userModels is absent', async () => {
    const { models } = setup(userModelsConfig(null));
    expect(
      await refusal(
        models.register(ALICE, {
          name: 'm',
          uri: 'archive:results/42/model.gguf'
        })
      )
    ).toEqual([
      'forbidden',
      'Serving your own model files is not enabled on this bridge (the admin opens it with serving.userModels)'
    ]);
    expect(models.list(ALICE)).toEqual([]);
  });
});

describe('placing a model file for a replica', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hpcb-models-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const file = (path: string, tier = 'archive') => ({
    uri: `${tier}:${path}`,
    tier,
    path,
    owner: { name: 'alice', groups: ALICE.groups }
  });
  const replica = { endpointId: 'e1', replicaId: 'r1' };

  it('local: copies the file once, named by the SHA-256 of its bytes, owner-only', async () => {
    const { fix } = setup();
    const placer = new LocalModelPlacer({
      storage: fix.service,
      dir: join(dir, 'models'),
      maxBytes: 1000
    });
    const archive = bucket(fix, 'hpc-archive');
    const first = await placer.place(file('results/42/model.gguf'));
    expect(first).toMatch(/\/models\/[0-9a-f]{64}\.gguf$/);
    expect(readFileSync(first)).toEqual(GGUF);
    expect(statSync(first).mode & 0o777).toBe(0o400);
    expect(statSync(join(dir, 'models')).mode & 0o777).toBe(0o700);
    const reads = archive.touched.length;
    // the same version again (a roll to the same file): no read of its bytes
    expect(await placer.place(file('results/42/model.gguf'))).toBe(first);
    expect(
      archive.touched.slice(reads).filter(k => k.endsWith('model.gguf'))
    ).toHaveLength(1); // the stat only
    // the same bytes at another path: the same copy
    expect(await placer.place(file('results/copy.gguf'))).toBe(first);
    expect(
      readdirSync(join(dir, 'models')).filter(n => n.endsWith('.gguf'))
    ).toEqual([first.slice(first.lastIndexOf('/') + 1)]);
  });

  it('local: refuses a file that grew past maxBytes, leaving nothing behind', async () => {
    const { fix } = setup();
    const placer = new LocalModelPlacer({
      storage: fix.service,
      dir: join(dir, 'models'),
      maxBytes: 10
    });
    await expect(placer.place(file('results/42/model.gguf'))).rejects.toThrow(
      /larger than the 10 bytes/
    );
    expect(readdirSync(join(dir, 'models'))).toEqual([]);
  });

  it('local: answers 404 for a file the owner cannot read', async () => {
    const { fix } = setup();
    const placer = new LocalModelPlacer({
      storage: fix.service,
      dir: join(dir, 'models'),
      maxBytes: 1000
    });
    await expect(
      placer.place({
        ...file('results/42/model.gguf'),
        owner: { name: 'bob', groups: [] }
      })
    ).rejects.toMatchObject({ code: 'not_found' });
  });

  function slurmPlacer(fix: IStorageFixture, ran: string[]) {
    const port = {
      files: {
        home: async () => '/home/u-alice/',
        mkdirp: async (p: string) => {
          ran.push(`mkdirp ${p}`);
        }
      },
      storage: (root: string) => fix.fs.port(root)
    } as unknown as IUserClusterPort;
    const access = {
      run: async (
        cluster: string,
        hubUser: string,
        fn: (s: IUserClusterPort) => Promise<unknown>
      ) => {
        ran.push(`run ${cluster} ${hubUser}`);
        return fn(port);
      }
    } as unknown as IClusterAccess;
    return new SlurmModelPlacer({
      storage: fix.service,
      access,
      cluster: 'demo',
      root: '.hpc-bridge/endpoints'
    });
  }

  it('slurm: uses a file on a tier of its cluster in place', async () => {
    const { fix } = setup();
    const ran: string[] = [];
    const path = await slurmPlacer(fix, ran).place(
      file('model.gguf', 'scratch'),
      replica
    );
    expect(path).toBe('/scratch/u-alice/model.gguf');
    expect(ran).toEqual([]);
  });

  it("slurm: copies any other file through the owner's session into the replica's directory", async () => {
    const { fix } = setup();
    const ran: string[] = [];
    const path = await slurmPlacer(fix, ran).place(
      file('results/42/model.gguf'),
      replica
    );
    const workdir = '/home/u-alice/.hpc-bridge/endpoints/r1';
    expect(path).toBe(`${workdir}/model/model.gguf`);
    expect(ran).toEqual(['run demo alice', `mkdirp ${workdir}/model`]);
    expect(fix.fs.objects.get(path)?.data).toEqual(GGUF);
  });
});
