/**
 * The loop closed on the real stack: a notebook job on SLURM generates a GGUF model file,
 * the bridge stages it out to the archive tier, a job.ended trigger rolls the user's
 * endpoint to it, and the gateway answers from the new model at the same URL with the
 * same key, by the endpoint's name, while the old replica drains.
 */
import { randomBytes } from 'node:crypto';
import {
  JobSchema,
  Routes,
  TriggerSchema,
  type Endpoint
} from '../../src/contract';
import {
  JSON_HEADERS,
  callRetrying,
  createEndpoint,
  newEndpointKey,
  waitForEndpoint,
  waitReady
} from './endpoint-calls';
import {
  BRIDGE_URL,
  code,
  createUserToken,
  notebook,
  runsUntil,
  send
} from './stack';

jest.setTimeout(300_000);

const RUN = randomBytes(4).toString('hex');
const FOLDER = `models-${RUN}`;
/**
 * The stack's generator of seeded random-weight GGUF models (the one that writes the demo
 * models), installed by stack/up next to them for any user: the job runs it with the
 * cluster's `node` (the stack's compute node is this machine, and stack/up requires node
 * on the PATH).
 */
const MAKE_GGUF = '/opt/hpc-bridge/models/make-gguf.mjs';

/** Writes a model of 22M parameters (not one of the demo models' seeds) as output 0. */
const WRITE_MODEL = notebook(
  code(
    [
      'import os, subprocess',
      'subprocess.run(',
      `    ['node', ${JSON.stringify(MAKE_GGUF)}, '--size', 'small', '--seed', '7',`,
      "     '--out', os.environ['HPCB_OUTPUT_0']],",
      '    check=True,',
      ')'
    ].join('\n')
  )
);

let alice: string;
let bob: string;
let endpoint: Endpoint | undefined;

async function chat(key: string, model: string) {
  const res = await fetch(`${BRIDGE_URL}/v1/chat/completions`, {
    method: 'POST',
    headers: { ...JSON_HEADERS, Authorization: `Bearer ${key}` },
    body: JSON.stringify({
      model,
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 4
    })
  });
  return { status: res.status, body: (await res.json()) as unknown };
}

beforeAll(async () => {
  [alice, bob] = await Promise.all([
    createUserToken('alice'),
    createUserToken('bob')
  ]);
});

afterAll(async () => {
  if (endpoint !== undefined) {
    await callRetrying(Routes.endpoint(endpoint.id), alice, {
      method: 'DELETE'
    });
  }
});

describe('a model trained by a job, served behind the gateway', () => {
  it('rolls the endpoint to the GGUF the job wrote: same URL, same key, new model', async () => {
    const name = `roll-${RUN}`;
    endpoint = await createEndpoint(alice, {
      name,
      model: 'tiny-random',
      provider: 'local'
    });
    const id = endpoint.id;
    await waitReady(id, alice);
    const { key } = await newEndpointKey(id, alice);
    expect(await chat(key, 'tiny-random')).toMatchObject({ status: 200 });

    const triggerRes = await send(alice, 'POST', Routes.triggers, {
      name: `serve-${RUN}`,
      source: {
        kind: 'job.ended',
        states: ['COMPLETED'],
        jobName: `train-${RUN}`
      },
      action: { kind: 'roll-endpoint', endpoint: id, output: 0 }
    });
    expect(triggerRes.status).toBe(201);
    const trigger = TriggerSchema.parse(triggerRes.body);
    // Not bob's endpoint to roll.
    const bobs = await send(bob, 'POST', Routes.triggers, {
      name: `steal-${RUN}`,
      source: { kind: 'job.ended', states: ['COMPLETED'] },
      action: { kind: 'roll-endpoint', endpoint: id }
    });
    expect(bobs.status).toBe(404);

    const submitted = await send(alice, 'POST', Routes.jobs, {
      name: `train-${RUN}`,
      notebook: { path: `work/${FOLDER}/train.ipynb`, content: WRITE_MODEL },
      profile: 'cpu-small',
      outputs: [`archive:${FOLDER}/{job}/model.gguf`]
    });
    expect(submitted.status).toBe(201);
    const job = JobSchema.parse(submitted.body);
    const modelUri = `archive:${FOLDER}/${job.id}/model.gguf`;

    // The trigger fires once the file is on the archive tier, and rolls the endpoint.
    const runs = await runsUntil(
      alice,
      trigger.id,
      'no roll',
      done => done.some(r => r.state === 'done' || r.state === 'failed'),
      200_000
    );
    expect(runs).toEqual([
      expect.objectContaining({
        state: 'done',
        event: expect.objectContaining({ jobId: job.id })
      })
    ]);

    // A replica of the new model serves; the old one no longer does; the URL stayed.
    const rolled = await waitForEndpoint(
      id,
      alice,
      ep =>
        ep.replicas.some(r => r.model === modelUri && r.state === 'ready') &&
        ep.replicas.every(r => r.model === modelUri || r.state !== 'ready'),
      200_000
    );
    expect(rolled).toMatchObject({
      model: modelUri,
      modelUri,
      url: endpoint.url
    });

    // The same key, by the endpoint's name (stable across rolls) and by the new model's.
    const byName = await chat(key, name);
    expect(byName).toMatchObject({
      status: 200,
      body: { model: rolled.model }
    });
    expect((await chat(key, rolled.model)).status).toBe(200);
    const models = await fetch(`${BRIDGE_URL}/v1/models`, {
      headers: { Authorization: `Bearer ${key}` }
    });
    const listed = ((await models.json()) as { data: { id: string }[] }).data;
    expect(listed[0]?.id).toBe(rolled.model);
    expect(listed.map(m => m.id)).toContain(name);
  });
});
