/**
 * A job that declares the endpoint it calls, on the real stack: the job (SLURM) reads its
 * key from the 0600 file its script sources, calls the gateway with the OpenAI variables,
 * writes what it saw to the archive; its key is revoked when it ends, and the result's
 * lineage names the calls. Bob cannot declare alice's endpoint.
 */
import { randomBytes } from 'node:crypto';
import {
  EndpointKeyListSchema,
  ErrorBodySchema,
  JobSchema,
  LineageSchema,
  Routes,
  TERMINAL_JOB_STATES,
  type Endpoint,
  type Job
} from '../../src/contract';
import { createEndpoint, JSON_HEADERS, waitReady } from './endpoint-calls';
import { BRIDGE_URL, bridge, code, createUserToken, notebook } from './stack';

jest.setTimeout(300_000);

const RUN = randomBytes(4).toString('hex');
const FOLDER = `job-calls-${RUN}`;

let alice: string;
let bob: string;
let ep: Endpoint;

/** Calls the gateway once with the OpenAI variables; writes the file mode and the status. */
const CALL = notebook(
  code(
    [
      'import json, os, stat, urllib.request',
      "mode = stat.S_IMODE(os.stat('endpoints.env').st_mode)",
      'req = urllib.request.Request(',
      "    os.environ['OPENAI_BASE_URL'] + '/chat/completions',",
      "    data=json.dumps({'model': 'tiny-random', 'max_tokens': 4,",
      "                     'messages': [{'role': 'user', 'content': 'Hello'}]}).encode(),",
      "    headers={'Authorization': 'Bearer ' + os.environ['OPENAI_API_KEY'],",
      "             'Content-Type': 'application/json'})",
      'with urllib.request.urlopen(req, timeout=120) as res:',
      '    status = res.status',
      "same = os.environ['OPENAI_API_KEY'] == os.environ[NAME + '_KEY']",
      "with open(os.environ['HPCB_OUTPUT_0'], 'w') as out:",
      "    out.write(f'mode={mode:o} status={status} same={same}\\n')"
    ].join('\n')
  )
);

async function staged(token: string, id: string): Promise<Job> {
  const deadline = Date.now() + 240_000;
  for (;;) {
    const job = JobSchema.parse((await bridge(Routes.job(id), token)).body);
    if (
      TERMINAL_JOB_STATES.includes(job.state) &&
      (job.outputs ?? []).every(o => o.stageOut !== 'pending')
    ) {
      return job;
    }
    if (Date.now() > deadline) {
      throw new Error(`job ${id} not staged out: ${JSON.stringify(job)}`);
    }
    await new Promise(r => setTimeout(r, 1000));
  }
}

beforeAll(async () => {
  [alice, bob] = await Promise.all([
    createUserToken('alice'),
    createUserToken('bob')
  ]);
  ep = await createEndpoint(alice, {
    name: `it-calls-${RUN}`,
    model: 'tiny-random',
    provider: 'local',
    resources: { gpus: 0 },
    visibility: 'private'
  });
  ep = await waitReady(ep.id, alice);
});

afterAll(async () => {
  await bridge(Routes.endpoint(ep.id), alice, { method: 'DELETE' });
});

describe('a job that calls an endpoint', () => {
  it('gets a key in a 0600 file, calls the gateway, loses the key at its end; lineage names the calls', async () => {
    const stem = ep.name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
    const nb = {
      ...CALL,
      cells: [code(`NAME = 'HPCB_ENDPOINT_${stem}'`), ...CALL.cells]
    };
    const res = await bridge(Routes.jobs, alice, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({
        name: `calls-${RUN}`,
        notebook: { path: `work/${FOLDER}/call.ipynb`, content: nb },
        profile: 'cpu-small',
        outputs: [`archive:${FOLDER}/{job}/seen.txt`],
        endpoints: [ep.name]
      })
    });
    expect(res.status).toBe(201);
    const submitted = JobSchema.parse(res.body);
    expect(submitted.endpoints).toEqual([
      { id: ep.id, name: ep.name, env: stem }
    ]);

    const job = await staged(alice, submitted.id);
    expect(job.state).toBe('COMPLETED');
    const path = `${FOLDER}/${job.id}/seen.txt`;
    const seen = await fetch(
      `${BRIDGE_URL}${Routes.tierContent('archive')}?path=${encodeURIComponent(path)}`,
      { headers: { Authorization: `token ${alice}` } }
    );
    expect(await seen.text()).toBe('mode=600 status=200 same=True\n');

    const keys = EndpointKeyListSchema.parse(
      (await bridge(Routes.endpointKeys(ep.id), alice)).body
    ).keys.filter(k => k.jobId === job.id);
    expect(keys).toHaveLength(1);
    expect(keys[0]?.revokedAt).not.toBeNull();

    const lineage = LineageSchema.parse(
      (
        await bridge(
          `${Routes.lineage}?tier=archive&path=${encodeURIComponent(path)}`,
          alice
        )
      ).body
    );
    expect(lineage.records[0]?.job.calls).toEqual([
      expect.objectContaining({
        endpointId: ep.id,
        endpoint: ep.name,
        model: 'tiny-random',
        requests: 1
      })
    ]);
    const call = lineage.records[0]?.job.calls?.[0];
    expect(
      (call?.promptTokens ?? 0) + (call?.completionTokens ?? 0)
    ).toBeGreaterThan(0);
  });

  it("refuses bob's job that declares alice's endpoint, as an unknown one", async () => {
    const res = await bridge(Routes.jobs, bob, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({
        name: `bob-calls-${RUN}`,
        notebook: {
          path: `work/${FOLDER}/bob.ipynb`,
          content: notebook(code('print(1)'))
        },
        profile: 'cpu-small',
        endpoints: [ep.id]
      })
    });
    expect(res.status).toBe(404);
    expect(ErrorBodySchema.parse(res.body).error.code).toBe('not_found');
  });
});
