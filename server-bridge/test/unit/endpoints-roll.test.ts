/** Rolling an endpoint to another model: same id, URL and keys; the old replica drains. */
import { EndpointKeys } from '../../src/endpoints/keys';
import type { IModelFile, IModelPlacer } from '../../src/endpoints/ports';
import { UserModelTable } from '../../src/endpoints/repository/user-models';
import { EndpointService } from '../../src/endpoints/service';
import { UserModels } from '../../src/endpoints/user-models';
import { controllerFixture, type IControllerFixture } from './endpoints-fakes';
import { storageFixture } from './storage-fakes';
import { aliceFiles, ALICE, BOB, userModelsConfig } from './user-models-fakes';

const MINUTE = 60_000;

/** Places every file at `/placed/<replica>/<path>`, and says which it placed. */
class RecordingPlacer implements IModelPlacer {
  readonly placed: string[] = [];
  async place(file: IModelFile, replica: { replicaId: string }) {
    this.placed.push(`${file.owner.name}:${file.uri}`);
    return `/placed/${replica.replicaId}/${file.path}`;
  }
}

interface IWorld {
  f: IControllerFixture;
  service: EndpointService;
  placer: RecordingPlacer;
}

async function world(): Promise<IWorld> {
  const fix = storageFixture();
  aliceFiles(fix);
  const config = userModelsConfig();
  const placer = new RecordingPlacer();
  const f = controllerFixture(
    config,
    fix.store,
    undefined,
    undefined,
    new Map([['local', placer]])
  );
  const models = new UserModels({
    config,
    table: new UserModelTable(fix.store),
    storage: fix.service,
    store: fix.store
  });
  await models.register(ALICE, {
    name: 'mine',
    uri: 'archive:results/42/model.gguf'
  });
  const service = new EndpointService({
    config,
    table: f.table,
    controller: f.controller,
    store: f.store,
    models
  });
  return { f, service, placer };
}

/** Endpoint e1 of alice serving the catalog model from a ready replica at 9001. */
async function serving(w: IWorld): Promise<string> {
  const ep = w.service.create(ALICE, {
    name: 'chat',
    model: 'tiny-random',
    provider: 'local'
  });
  await w.f.controller.tick();
  w.f.provider.run(
    w.f.provider.last(),
    9001,
    new Date(w.f.clock.now() + 60 * MINUTE)
  );
  await w.f.controller.tick();
  expect(w.f.table.get(ep.id)?.state).toBe('ready');
  return ep.id;
}

const upstreamOf = (w: IWorld, id: string) =>
  w.f.controller.upstream(id, new AbortController().signal);

describe('rolling an endpoint to a user model', () => {
  it('starts a replica with the new model, drains the old one once it is ready, and keeps id, URL and keys', async () => {
    const w = await world();
    const id = await serving(w);
    const keys = new EndpointKeys(w.f.store);
    const { key } = keys.create(id, 'alice', { name: 'k' });
    const before = w.service.get(ALICE, id);
    const old = w.f.provider.last();

    const rolled = await w.service.rollModel(ALICE, id, 'mine');
    expect(rolled).toMatchObject({
      id,
      url: before.url,
      model: 'mine',
      modelUri: 'archive:results/42/model.gguf',
      roll: { from: 'tiny-random', fromUri: null }
    });
    // the new replica got the placed file as {model}; the old one still serves
    const fresh = w.f.provider.last();
    expect(fresh).not.toBe(old);
    expect(w.placer.placed).toEqual(['alice:archive:results/42/model.gguf']);
    expect(fresh.spec.modelPath).toBe(
      `/placed/${fresh.spec.replicaId}/results/42/model.gguf`
    );
    expect(fresh.spec.argv).toContain(fresh.spec.modelPath);
    await expect(upstreamOf(w, id)).resolves.toMatchObject({
      baseUrl: 'http://127.0.0.1:9001'
    });

    // a second roll while this one is in flight
    await expect(
      w.service.rollModel(ALICE, id, 'tiny-random')
    ).rejects.toMatchObject({ code: 'conflict' });

    // new → ready: the old one drains, the endpoint still shows the roll
    w.f.clock.advance(5000);
    w.f.provider.run(fresh, 9002, new Date(w.f.clock.now() + 60 * MINUTE));
    await w.f.controller.tick();
    const during = w.service.get(ALICE, id);
    expect(during.replicas.map(r => [r.model, r.state, r.reason])).toEqual([
      [
        'tiny-random',
        'draining',
        `Replaced by ${fresh.spec.replicaId} (roll to mine)`
      ],
      ['mine', 'ready', null]
    ]);
    expect(during.roll).toMatchObject({ from: 'tiny-random' });
    await expect(upstreamOf(w, id)).resolves.toMatchObject({
      baseUrl: 'http://127.0.0.1:9002'
    });

    // drained: the old replica stops and the roll is over
    w.f.clock.advance(31_000);
    await w.f.controller.tick();
    expect(old.stopped).toBe(true);
    const after = w.service.get(ALICE, id);
    expect(after).toMatchObject({ model: 'mine', roll: null, state: 'ready' });
    expect(keys.resolve(key)).toMatchObject({ endpointId: id });
    const audit = w.f.store.db
      .prepare(
        "SELECT user, target, details FROM audit WHERE action = 'endpoint.roll'"
      )
      .all() as { user: string; target: string; details: string }[];
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ user: 'alice', target: id });
    expect(JSON.parse(audit[0]?.details ?? '{}')).toMatchObject({
      from: 'tiny-random',
      to: 'mine',
      modelUri: 'archive:results/42/model.gguf'
    });
  });

  it('rolls to a tier URI, checked as at registration, and back when the new model never becomes ready', async () => {
    const w = await world();
    const id = await serving(w);
    await expect(
      w.service.rollModel(ALICE, id, 'archive:notes.txt')
    ).rejects.toMatchObject({ code: 'bad_request' });
    await w.service.rollModel(ALICE, id, 'archive:results/copy.gguf');
    const fresh = w.f.provider.last();
    fresh.status = { state: 'failed', reason: 'exited with code 1: bad model' };
    await w.f.controller.tick();
    await w.f.controller.tick();
    const ep = w.service.get(ALICE, id);
    expect(ep).toMatchObject({
      model: 'tiny-random',
      modelUri: null,
      roll: null,
      state: 'ready'
    });
    expect(ep.reason).toMatch(
      /^Could not serve archive:results\/copy\.gguf \(.*bad model\); tiny-random serves on$/
    );
    await expect(upstreamOf(w, id)).resolves.toMatchObject({
      baseUrl: 'http://127.0.0.1:9001'
    });
    // and it may roll again
    await expect(w.service.rollModel(ALICE, id, 'mine')).resolves.toMatchObject(
      { model: 'mine' }
    );
  });

  it('switches a stopped endpoint without a roll: its next start serves the new model', async () => {
    const w = await world();
    const id = await serving(w);
    await w.service.stop(ALICE, id);
    const ep = await w.service.rollModel(ALICE, id, 'mine');
    expect(ep).toMatchObject({ model: 'mine', roll: null, state: 'stopped' });
    await w.service.start(ALICE, id);
    await w.f.controller.tick();
    expect(w.f.provider.last().spec.modelPath).toMatch(/^\/placed\//);
  });

  it("creates an endpoint of the user's model; others cannot use it, nor roll the endpoint", async () => {
    const w = await world();
    const ep = w.service.create(ALICE, {
      name: 'own',
      model: 'mine',
      provider: 'local'
    });
    expect(ep).toMatchObject({
      model: 'mine',
      modelUri: 'archive:results/42/model.gguf'
    });
    await w.f.controller.tick();
    expect(w.f.provider.last().spec.modelPath).toBe(
      `/placed/${w.f.provider.last().spec.replicaId}/results/42/model.gguf`
    );
    expect(() =>
      w.service.create(BOB, { name: 'x', model: 'mine', provider: 'local' })
    ).toThrow(expect.objectContaining({ code: 'not_found' }));
    await expect(
      w.service.rollModel(BOB, ep.id, 'tiny-random')
    ).rejects.toMatchObject({ code: 'not_found' });
    expect(() =>
      w.service.create(ALICE, {
        name: 'cloud',
        model: 'mine',
        provider: 'openstack'
      })
    ).toThrow(/cannot be served by the openstack provider/);
  });
});
