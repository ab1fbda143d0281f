/**
 * Fault: the Swift proxy (the S3 endpoint) is stopped. Storage calls on S3 tiers answer
 * 503 with a sentence naming the tier; nothing written during the outage shows up
 * later; everything works again once the proxy is back, without restarting the bridge.
 */
import { createHash } from 'node:crypto';
import {
  FileListSchema,
  HealthSchema,
  Routes,
  TierListSchema,
  UploadResultSchema
} from '../../src/contract';
import { bridge } from '../integration/stack';
import { ctl, duringFault, errorOf, faultSuite, stackStatus } from './fault';

const { run: RUN, alice } = faultSuite();
const KEPT = `faults/kept-${RUN}.txt`;
const LOST = `faults/during-${RUN}.txt`;

const q = (path: string) => new URLSearchParams({ path }).toString();

function put(path: string, body: string) {
  return bridge(`${Routes.tierContent('archive')}?${q(path)}`, alice(), {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream' },
    body
  });
}

function expectStorageUnavailable(res: { status: number; body: unknown }) {
  const { status, error } = errorOf(res);
  expect({ status, code: error.code }).toEqual({
    status: 503,
    code: 'upstream_unavailable'
  });
  expect(error.message).toMatch(/\barchive\b|Archive/);
  expect(error.message).not.toMatch(/\n|ECONNREFUSED/);
}

it('answers 503 for S3 tiers while Swift is down, keeps no partial state and recovers', async () => {
  expect((await put(KEPT, 'kept before the outage')).status).toBe(201);
  const bridgePid = await ctl('pid', 'bridge');

  await duringFault('swift-proxy', 'stop', async () => {
    expectStorageUnavailable(
      await bridge(`${Routes.tierFiles('archive')}?path=faults`, alice())
    );
    expectStorageUnavailable(
      await bridge(`${Routes.tierContent('archive')}?${q(KEPT)}`, alice())
    );
    expectStorageUnavailable(await put(LOST, 'written during the outage'));
    expectStorageUnavailable(
      await bridge(Routes.tierUploads('archive'), alice(), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ path: LOST, size: 10 })
      })
    );
    // The tier list still answers (usage unknown at worst): the panel can show it.
    const tiers = await bridge(Routes.tiers, alice());
    expect(tiers.status).toBe(200);
    TierListSchema.parse(tiers.body);
  });

  expect(await ctl('pid', 'bridge')).toBe(bridgePid);
  const list = await bridge(
    `${Routes.tierFiles('archive')}?path=faults`,
    alice()
  );
  expect(list.status).toBe(200);
  const names = FileListSchema.parse(list.body).entries.map(e => e.name);
  expect(names).toContain(`kept-${RUN}.txt`);
  expect(names).not.toContain(`during-${RUN}.txt`);
  const read = await bridge(
    `${Routes.tierContent('archive')}?${q(KEPT)}`,
    alice()
  );
  expect(read).toEqual({ status: 200, body: 'kept before the outage' });

  const retry = await put(LOST, 'written after the outage');
  expect(retry.status).toBe(201);
  expect(UploadResultSchema.parse(retry.body).sha256).toBe(
    createHash('sha256').update('written after the outage').digest('hex')
  );
  for (const path of [KEPT, LOST]) {
    await bridge(`${Routes.tierFiles('archive')}?${q(path)}`, alice(), {
      method: 'DELETE'
    });
  }
});

it('reports a wedged object server as degraded with the cause (bridge and ./stack/status), and start repairs it', async () => {
  // Frozen, the object server still accepts connections but answers nothing: the proxy
  // answers 503 for every object while listings (account and container servers) work.
  await duringFault('swift-object', 'freeze', async () => {
    const health = await bridge(Routes.health, alice());
    expect(health.status).toBe(200);
    const s3 = HealthSchema.parse(health.body).components.find(
      c => c.kind === 's3'
    );
    expect(s3).toMatchObject({
      status: 'degraded',
      checks: { list: 'ok', write: 'down' }
    });
    expect(s3?.detail).toMatch(/^write of a small object in \S+ failed: /);
    const status = await stackStatus();
    expect(status.ok).toBe(false);
    expect(status.output).toMatch(/^s3-objects\s.*\sdown$/m);
    expect(status.output).toMatch(/^s3-buckets\s.*\sok$/m);
  });
  const health = HealthSchema.parse(
    (await bridge(Routes.health, alice())).body
  );
  expect(health.components.find(c => c.kind === 's3')).toMatchObject({
    status: 'ok',
    checks: { list: 'ok', write: 'ok', read: 'ok', delete: 'ok' }
  });
  expect((await put(KEPT, 'written after the repair')).status).toBe(201);
  await bridge(`${Routes.tierFiles('archive')}?${q(KEPT)}`, alice(), {
    method: 'DELETE'
  });
});
