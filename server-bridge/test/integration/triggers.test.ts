/**
 * Triggers on the real stack, through the hub's proxy: a CSV landing under a project
 * folder runs a notebook job on SLURM whose result the bridge stages out to the archive
 * (Swift), with the CSV's version in its lineage; a job.ended trigger carries the result
 * on; limits hold runs back without dropping them; data-class rules and ownership hold.
 */
import { randomBytes } from 'node:crypto';
import {
  ErrorBodySchema,
  LineageSchema,
  Routes,
  TriggerDryRunSchema,
  TriggerListSchema,
  TriggerSchema
} from '../../src/contract';
import {
  bridge,
  code,
  content,
  createUserToken,
  notebook,
  put,
  runsUntil,
  send,
  staged
} from './stack';

jest.setTimeout(240_000);

const RUN = randomBytes(4).toString('hex');
const FOLDER = `triggers-${RUN}`;
const INCOMING = `ml101/${FOLDER}/incoming`;
const CSV = 'x,y\n1,2\n3,4\n5,6\n';

let alice: string;
let bob: string;

/** Counts the new object's data rows and writes the count as output 0. */
const CLEAN = notebook(
  code('trigger_uri = ""', ['parameters']),
  code(
    [
      'import os',
      "rows = open(os.environ['HPCB_INPUT_0']).read().strip().splitlines()[1:]",
      "with open(os.environ['HPCB_OUTPUT_0'], 'w') as out:",
      "    out.write(f'{trigger_uri}: {len(rows)} rows\\n')"
    ].join('\n')
  )
);

/** A watched folder exists before its trigger (an S3 tier keeps a marker for it). */
async function mkdir(token: string, tier: string, path: string) {
  const res = await send(token, 'POST', Routes.tierMkdir(tier), { path });
  expect(res.status).toBe(201);
}

async function createTrigger(token: string, body: unknown) {
  const res = await send(token, 'POST', Routes.triggers, body);
  expect(res).toMatchObject({ status: 201 });
  return TriggerSchema.parse(res.body);
}

const cleanJob = (name: string) => ({
  name,
  notebook: { path: `work/${FOLDER}/clean.ipynb`, content: CLEAN },
  profile: 'cpu-small',
  outputs: [`archive:${FOLDER}/{job}/rows.txt`]
});

beforeAll(async () => {
  [alice, bob] = await Promise.all([
    createUserToken('alice'),
    createUserToken('bob')
  ]);
});

describe('a trigger on new files', () => {
  it('runs the notebook on a CSV that lands in the folder, and the result in the archive names the CSV it came from', async () => {
    // There before the trigger: the baseline, which does not fire.
    await put(alice, 'project', `${INCOMING}/old.csv`, CSV);
    const clean = await createTrigger(alice, {
      name: `clean-${RUN}`,
      source: {
        kind: 'object.created',
        prefix: `project:${INCOMING}/`,
        match: '*.csv'
      },
      action: { kind: 'submit', job: cleanJob(`clean-${RUN}`) }
    });
    expect(clean).toMatchObject({ owner: 'alice', state: 'active' });
    // A job.ended trigger on the first one's jobs copies their results on.
    const publish = await createTrigger(alice, {
      name: `publish-${RUN}`,
      source: { kind: 'job.ended', states: ['COMPLETED'], trigger: clean.id },
      action: { kind: 'copy', to: `archive:${FOLDER}/published/` }
    });

    await put(alice, 'project', `${INCOMING}/notes.txt`, 'not a CSV');
    await put(alice, 'project', `${INCOMING}/train.csv`, CSV);
    const uri = `project:${INCOMING}/train.csv`;
    const [run] = await runsUntil(
      alice,
      clean.id,
      'the CSV did not start a job',
      runs => runs.some(r => r.result?.jobId !== undefined)
    );
    expect(run).toMatchObject({
      trigger: clean.id,
      event: {
        kind: 'object.created',
        uri,
        version: { size: CSV.length }
      }
    });
    const jobId = run?.result?.jobId ?? '';
    const job = await staged(alice, jobId);
    expect(job).toMatchObject({
      state: 'COMPLETED',
      trigger: { id: clean.id, run: run?.id },
      inputs: [{ tier: 'project', path: `${INCOMING}/train.csv` }]
    });
    const resultPath = `${FOLDER}/${job.id}/rows.txt`;
    expect(await content(alice, 'archive', resultPath)).toEqual({
      status: 200,
      text: `${uri}: 3 rows\n`
    });
    const lineage = LineageSchema.parse(
      (
        await bridge(
          `${Routes.lineage}?tier=archive&path=${encodeURIComponent(resultPath)}`,
          alice
        )
      ).body
    );
    expect(lineage.records[0]).toMatchObject({
      job: { id: job.id, parameters: { trigger_uri: uri } },
      inputs: [
        {
          tier: 'project',
          path: `${INCOMING}/train.csv`,
          version: { size: CSV.length, etag: expect.any(String) }
        }
      ]
    });

    // One run only: the old CSV and the text file did not fire, and the run ended.
    const settled = await runsUntil(
      alice,
      clean.id,
      'the run did not end with its job',
      runs => runs.every(r => r.state === 'done')
    );
    expect(settled).toHaveLength(1);

    const published = await runsUntil(
      alice,
      publish.id,
      'the job.ended trigger did not copy the result',
      runs => runs.some(r => r.state === 'done' || r.state === 'failed')
    );
    expect(published).toEqual([
      expect.objectContaining({
        state: 'done',
        event: expect.objectContaining({ kind: 'job.ended', jobId: job.id })
      })
    ]);
    expect(
      await content(alice, 'archive', `${FOLDER}/published/rows.txt`)
    ).toEqual({ status: 200, text: `${uri}: 3 rows\n` });
  });

  it('holds runs over the hourly limit and starts them when the limit allows', async () => {
    const folder = `${FOLDER}/limited`;
    await mkdir(alice, 'project', `ml101/${folder}`);
    const copy = await createTrigger(alice, {
      name: `copy-${RUN}`,
      source: { kind: 'object.created', prefix: `project:ml101/${folder}/` },
      action: { kind: 'copy', to: `archive:${folder}/` },
      limits: { maxPerHour: 1 }
    });
    await put(alice, 'project', `ml101/${folder}/a.csv`, 'a\n');
    await put(alice, 'project', `ml101/${folder}/b.csv`, 'b\n');
    const held = await runsUntil(
      alice,
      copy.id,
      'two files did not make one done and one waiting run',
      runs =>
        runs.length === 2 &&
        runs.some(r => r.state === 'done') &&
        runs.some(r => r.state === 'waiting')
    );
    const waiting = held.find(r => r.state === 'waiting');
    expect(waiting?.reason).toMatch(/hour/);

    const dry = await send(alice, 'POST', Routes.triggerDryRun(copy.id));
    expect(dry.status).toBe(200);
    expect(TriggerDryRunSchema.parse(dry.body).events).toEqual([]);

    const raised = await send(alice, 'PATCH', Routes.trigger(copy.id), {
      limits: { maxPerHour: 5 }
    });
    expect(raised.status).toBe(200);
    await runsUntil(
      alice,
      copy.id,
      'the waiting run did not start once the limit allowed it',
      runs => runs.length === 2 && runs.every(r => r.state === 'done')
    );
    for (const name of ['a.csv', 'b.csv']) {
      expect(
        (await content(alice, 'archive', `${folder}/${name}`)).status
      ).toBe(200);
    }
  });

  it('pauses: new files wait, and the dry run shows them; resuming runs them', async () => {
    const folder = `${FOLDER}/paused`;
    await mkdir(alice, 'project', `ml101/${folder}`);
    const copy = await createTrigger(alice, {
      name: `paused-${RUN}`,
      source: { kind: 'object.created', prefix: `project:ml101/${folder}/` },
      action: { kind: 'copy', to: `archive:${folder}/` },
      state: 'paused'
    });
    await put(alice, 'project', `ml101/${folder}/c.csv`, 'c\n');
    const dry = TriggerDryRunSchema.parse(
      (await send(alice, 'POST', Routes.triggerDryRun(copy.id))).body
    );
    expect(dry.events).toEqual([
      expect.objectContaining({
        event: expect.objectContaining({
          uri: `project:ml101/${folder}/c.csv`
        })
      })
    ]);
    expect(
      (await send(alice, 'PATCH', Routes.trigger(copy.id), { state: 'active' }))
        .status
    ).toBe(200);
    await runsUntil(
      alice,
      copy.id,
      'the resumed trigger did not copy the file',
      runs => runs.length === 1 && runs[0]?.state === 'done'
    );
    expect((await content(alice, 'archive', `${folder}/c.csv`)).status).toBe(
      200
    );
  });
});

describe('what a trigger may not do', () => {
  it('refuses a sensitive input with a public output, at creation', async () => {
    const res = await send(alice, 'POST', Routes.triggers, {
      name: `leak-${RUN}`,
      source: {
        kind: 'object.created',
        prefix: `sensitive:medical/${FOLDER}/`
      },
      action: {
        kind: 'submit',
        job: {
          ...cleanJob(`leak-${RUN}`),
          profile: 'gpu-1',
          outputs: [`outreach:${FOLDER}/{job}/rows.txt`]
        }
      }
    });
    expect(res.status).toBe(403);
    expect(ErrorBodySchema.parse(res.body).error.message).toMatch(/public/i);
  });

  it("keeps a user's triggers from everyone else", async () => {
    const own = await createTrigger(alice, {
      name: `own-${RUN}`,
      source: { kind: 'schedule', cron: '0 3 * * *' },
      action: { kind: 'webhook', url: 'https://example.org/hook' }
    });
    for (const [method, path] of [
      ['GET', Routes.trigger(own.id)],
      ['PATCH', Routes.trigger(own.id)],
      ['DELETE', Routes.trigger(own.id)],
      ['GET', Routes.triggerRuns(own.id)],
      ['POST', Routes.triggerDryRun(own.id)]
    ] as const) {
      const res = await send(
        bob,
        method,
        path,
        method === 'PATCH' ? { state: 'paused' } : undefined
      );
      expect({ method, path, status: res.status }).toEqual({
        method,
        path,
        status: 404
      });
    }
    const bobs = TriggerListSchema.parse(
      (await bridge(Routes.triggers, bob)).body
    );
    expect(bobs.triggers.map(t => t.id)).not.toContain(own.id);
    expect((await send(alice, 'DELETE', Routes.trigger(own.id))).status).toBe(
      204
    );
    expect((await bridge(Routes.trigger(own.id), alice)).status).toBe(404);
  });

  it('refuses a cron that is not one, and a prefix the user cannot read', async () => {
    const badCron = await send(alice, 'POST', Routes.triggers, {
      name: `cron-${RUN}`,
      source: { kind: 'schedule', cron: '61 * * * *' },
      action: { kind: 'webhook', url: 'https://example.org/hook' }
    });
    expect(badCron.status).toBe(400);
    const notHers = await send(bob, 'POST', Routes.triggers, {
      name: `peek-${RUN}`,
      source: { kind: 'object.created', prefix: `sensitive:medical/` },
      action: { kind: 'copy', to: `archive:${FOLDER}/peek/` }
    });
    expect([403, 404]).toContain(notHers.status);
  });
});
