/** The storage service against in-memory backends: tiers, paths, groups, quota, links, audit. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { searchAudit } from '../../src/admin/repository/audit';
import type { ErrorCode } from '../../src/contract';
import { DomainError } from '../../src/domain-error';
import { statusOfError } from '../../src/errors';
import { checkTierPath } from '../../src/storage/paths';
import { Store } from '../../src/store';
import { checkQuota, formatBytes, UsageCache } from '../../src/storage/quota';
import { partLayout, partSizeOf } from '../../src/storage/uploads';
import { uploadTempName } from '../../src/adapters/ssh/storage-upload';
import {
  ALICE,
  BOB,
  CAROL,
  MemoryBackend,
  bucket,
  storageFixture,
  type IStorageFixture
} from './storage-fakes';

let f: IStorageFixture;

beforeEach(() => {
  f = storageFixture();
});

afterEach(() => {
  f.store.close();
});

/** The domain error `p` rejects with, and the status the bridge answers it with. */
async function refusal(
  p: Promise<unknown>
): Promise<{ code: ErrorCode; message: string; statusCode: number }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DomainError) {
      return { code: e.code, message: e.message, statusCode: statusOfError(e) };
    }
    throw e;
  }
  throw new Error('expected a refusal');
}

const bytes = (s: string) => Readable.from([Buffer.from(s)]);

describe('tiers', () => {
  it('lists the tiers a user may see, with access, groups and usage per scope', async () => {
    bucket(f, 'hpc-project').put('ml101/a.csv', 'x'.repeat(100));
    const tiers = await f.service.tiers(ALICE);
    expect(tiers.map(t => t.name)).toEqual([
      'scratch',
      'project',
      'archive',
      'outreach',
      'sensitive'
    ]);
    const project = tiers.find(t => t.name === 'project');
    expect(project).toMatchObject({
      class: 'project',
      adapter: 's3',
      access: 'write',
      groups: ['climate', 'ml101'],
      links: false,
      audited: false,
      directUpload: true,
      codeAccess: true
    });
    expect(project?.usage.ml101).toMatchObject({ bytes: 100, quotaBytes: 500 });
    expect(project?.usage.climate).toMatchObject({ bytes: 0 });
    const sensitive = tiers.find(t => t.name === 'sensitive');
    expect(sensitive).toMatchObject({
      audited: true,
      links: false,
      directUpload: false,
      codeAccess: false
    });
    expect(tiers.find(t => t.name === 'outreach')?.links).toBe(true);
    expect(tiers.find(t => t.name === 'scratch')).toMatchObject({
      adapter: 'sftp',
      groups: null,
      directUpload: false
    });
  });

  it('hides tiers without access and gives read access where only read is granted', async () => {
    const bobTiers = await f.service.tiers(BOB);
    expect(bobTiers.map(t => t.name)).not.toContain('sensitive');
    const carol = await f.service.tiers(CAROL);
    expect(carol.map(t => t.name)).toEqual(['scratch', 'archive', 'outreach']);
    const climateOnly = { name: 'dan', groups: ['climate'] };
    const project = (await f.service.tiers(climateOnly)).find(
      t => t.name === 'project'
    );
    expect(project?.access).toBe('read');
    const e = await refusal(
      f.service.files.write(climateOnly, 'project', 'climate/x', bytes('x'), {
        size: 1,
        overwrite: true
      })
    );
    expect(e.statusCode).toBe(403);
    expect(e.message).toMatch(/read-only/);
  });

  it('maps {user} to the cluster account on sftp tiers and to the hub name on s3 tiers', async () => {
    await f.service.files.write(ALICE, 'scratch', 'x.txt', bytes('hi'), {
      size: 2,
      overwrite: true
    });
    expect([...f.fs.objects.keys()]).toEqual(['/scratch/u-alice/x.txt']);
    await f.service.files.write(ALICE, 'archive', 'y.txt', bytes('hi'), {
      size: 2,
      overwrite: true
    });
    expect([...bucket(f, 'hpc-archive').objects.keys()]).toEqual([
      'alice/y.txt'
    ]);
  });
});

describe('paths and isolation', () => {
  const hostile = [
    '../bob/x',
    'a/../../bob',
    '/scratch/u-bob/x',
    '%2e%2e/bob',
    '%2E%2E%2Fbob',
    'a\0b',
    'a\\..\\b',
    './x',
    'a//b'
  ];

  it.each(hostile)('refuses %j before it reaches a backend', async path => {
    const e = await refusal(f.service.files.list(ALICE, 'scratch', path, 100));
    expect(e.statusCode).toBe(400);
    expect(() => checkTierPath(path)).toThrow(DomainError);
    expect(f.fs.touched).toEqual([]);
  });

  it("keeps alice out of bob's group folders and bob's scratch", async () => {
    bucket(f, 'hpc-project').put('genomics/secret.csv', 'dna');
    f.fs.put('/scratch/u-bob/secret.txt', 'bob');
    const list = await f.service.files.list(ALICE, 'project', '', 100);
    expect(list.entries.map(e => e.name)).toEqual(['climate', 'ml101']);
    for (const p of [
      f.service.files.list(ALICE, 'project', 'genomics', 100),
      f.service.files.read(ALICE, 'project', 'genomics/secret.csv'),
      f.service.files.write(ALICE, 'project', 'genomics/x', bytes('x'), {
        size: 1,
        overwrite: true
      })
    ]) {
      expect((await refusal(p)).statusCode).toBe(403);
    }
    // Alice's scratch is her own root: bob's file is not reachable by any path.
    expect(
      (await refusal(f.service.files.read(ALICE, 'scratch', 'secret.txt')))
        .statusCode
    ).toBe(404);
    expect([...f.fs.touched].every(k => k.startsWith('/scratch/u-alice'))).toBe(
      true
    );
    expect(
      bucket(f, 'hpc-project').touched.every(k => !k.startsWith('genomics'))
    ).toBe(true);
  });

  it('refuses writes at the root of a group tier and changes to a group folder itself', async () => {
    const atRoot = await refusal(
      f.service.files.write(ALICE, 'project', 'x.csv', bytes('x'), {
        size: 1,
        overwrite: true
      })
    );
    expect(atRoot.statusCode).toBe(403);
    expect(
      (await refusal(f.service.files.delete(ALICE, 'project', 'ml101')))
        .statusCode
    ).toBe(403);
  });

  it('answers 404 for a tier the user may not see, as for one that does not exist', async () => {
    const hidden = await refusal(
      f.service.files.list(BOB, 'sensitive', '', 10)
    );
    const missing = await refusal(f.service.files.list(BOB, 'nope', '', 10));
    expect(hidden.statusCode).toBe(404);
    expect(hidden.message).toBe('No storage tier named "sensitive"');
    expect(missing.message).toBe('No storage tier named "nope"');
  });
});

describe('files', () => {
  it('writes, stats, lists page by page, reads ranges, renames and deletes', async () => {
    const data = 'hello storage';
    const sha = createHash('sha256').update(data).digest('hex');
    const result = await f.service.files.write(
      ALICE,
      'archive',
      'd/a.txt',
      bytes(data),
      {
        size: data.length,
        overwrite: true,
        sha256: sha
      }
    );
    expect(result).toMatchObject({
      sha256: sha,
      entry: { path: 'd/a.txt', size: data.length, writable: true }
    });
    for (let i = 0; i < 5; i++) {
      await f.service.files.write(ALICE, 'archive', `d/f${i}`, bytes('x'), {
        size: 1,
        overwrite: true
      });
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await f.service.files.list(ALICE, 'archive', 'd', 2, cursor);
      expect(page.entries.length).toBeLessThanOrEqual(2);
      seen.push(...page.entries.map(e => e.path));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    expect(seen).toHaveLength(6);
    const first = await f.service.files.list(ALICE, 'archive', 'd', 2);
    const sealed = first.nextCursor!;
    const refused = expect.objectContaining({ code: 'bad_request' });
    // A forged token, a sealed one from another folder or user, and garbage never reach the port.
    await expect(
      f.service.files.list(ALICE, 'archive', 'd', 2, 'M/')
    ).rejects.toEqual(refused);
    await expect(
      f.service.files.list(ALICE, 'archive', '', 2, sealed)
    ).rejects.toEqual(refused);
    await expect(
      f.service.files.list(
        ALICE,
        'archive',
        'd',
        2,
        `${sealed.split('.')[0]}.${Buffer.from('f9').toString('base64url')}`
      )
    ).rejects.toEqual(refused);
    const part = await f.service.files.read(
      ALICE,
      'archive',
      'd/a.txt',
      () => ({ start: 6, end: 12 })
    );
    const chunks: Buffer[] = [];
    for await (const c of part.body) {
      chunks.push(c as Buffer);
    }
    expect(Buffer.concat(chunks).toString()).toBe('storage');
    expect(part.size).toBe(data.length);
    await f.service.files.rename(ALICE, 'archive', 'd/a.txt', 'd/b.txt');
    expect((await f.service.files.stat(ALICE, 'archive', 'd/b.txt')).size).toBe(
      data.length
    );
    expect(
      (await refusal(f.service.files.stat(ALICE, 'archive', 'd/a.txt')))
        .statusCode
    ).toBe(404);
    await f.service.files.delete(ALICE, 'archive', 'd');
    expect(bucket(f, 'hpc-archive').objects.size).toBe(0);
  });

  it('discards an upload whose SHA-256 or size differs, leaving nothing', async () => {
    const wrongSha = await refusal(
      f.service.files.write(ALICE, 'archive', 'x', bytes('abc'), {
        size: 3,
        overwrite: true,
        sha256: '0'.repeat(64)
      })
    );
    expect(wrongSha.message).toMatch(/SHA-256 mismatch/);
    const short = await refusal(
      f.service.files.write(ALICE, 'archive', 'y', bytes('ab'), {
        size: 3,
        overwrite: true
      })
    );
    expect(short.message).toMatch(/Received 2 of 3 bytes/);
    const long = await refusal(
      f.service.files.write(ALICE, 'archive', 'z', bytes('abcd'), {
        size: 3,
        overwrite: true
      })
    );
    expect(long.message).toMatch(/longer than the declared/);
    expect(bucket(f, 'hpc-archive').objects.size).toBe(0);
  });

  it('refuses to overwrite when asked not to', async () => {
    await f.service.files.write(ALICE, 'archive', 'x', bytes('a'), {
      size: 1,
      overwrite: true
    });
    const e = await refusal(
      f.service.files.write(ALICE, 'archive', 'x', bytes('b'), {
        size: 1,
        overwrite: false
      })
    );
    expect(e.statusCode).toBe(409);
  });
});

describe('quota', () => {
  it('refuses a write from its declared size before any byte is written', async () => {
    f.fs.put('/scratch/u-alice/old', Buffer.alloc(900));
    const body = bytes('never read');
    const e = await refusal(
      f.service.files.write(ALICE, 'scratch', 'new', body, {
        size: 200,
        overwrite: true
      })
    );
    expect(e.code).toBe('quota_exceeded');
    expect(e.statusCode).toBe(413);
    expect(e.message).toBe(
      'Writing 200 B would exceed the 1000 B quota of scratch: 900 B used, 100 B left. Nothing was written.'
    );
    expect(f.fs.writes).toBe(0);
    expect(body.readableDidRead).toBe(false);
  });

  it('counts the file an overwrite replaces, and updates the cached usage on writes', async () => {
    await f.service.files.write(ALICE, 'scratch', 'a', bytes('x'.repeat(600)), {
      size: 600,
      overwrite: true
    });
    // Replacing a 600-byte file with 700 bytes fits in 1000.
    await f.service.files.write(ALICE, 'scratch', 'a', bytes('x'.repeat(700)), {
      size: 700,
      overwrite: true
    });
    // The cache now says 700: another 400 bytes do not fit, although nothing re-measured.
    const e = await refusal(
      f.service.files.write(ALICE, 'scratch', 'b', bytes('x'.repeat(400)), {
        size: 400,
        overwrite: true
      })
    );
    expect(e.code).toBe('quota_exceeded');
    await f.service.files.delete(ALICE, 'scratch', 'a');
    await f.service.files.write(ALICE, 'scratch', 'b', bytes('x'.repeat(400)), {
      size: 400,
      overwrite: true
    });
  });

  it('applies per group', async () => {
    bucket(f, 'hpc-project').put('genomics/big', Buffer.alloc(500));
    await f.service.files.write(
      ALICE,
      'project',
      'ml101/x',
      bytes('x'.repeat(400)),
      { size: 400, overwrite: true }
    );
    const e = await refusal(
      f.service.files.write(BOB, 'project', 'genomics/y', bytes('y'), {
        size: 1,
        overwrite: true
      })
    );
    expect(e.message).toMatch(/quota of project\/genomics/);
  });

  it('checks the multipart declared size at start', async () => {
    f.fs.put('/scratch/u-alice/old', Buffer.alloc(10));
    const e = await refusal(
      f.service.uploads.start(ALICE, 'project', {
        path: 'ml101/big',
        size: 501
      })
    );
    expect(e.code).toBe('quota_exceeded');
    expect(bucket(f, 'hpc-project').uploads.size).toBe(0);
  });

  it('does the math and the caching right', async () => {
    expect(() =>
      checkQuota({ where: 'x', quota: 10, used: 5, size: 5 })
    ).not.toThrow();
    expect(() =>
      checkQuota({ where: 'x', quota: 10, used: 5, size: 6 })
    ).toThrow(/1 B would|6 B would/);
    expect(() =>
      checkQuota({ where: 'x', quota: 10, used: 9, size: 6, replaced: 5 })
    ).not.toThrow();
    expect(() =>
      checkQuota({ where: 'x', quota: undefined, used: 9e12, size: 1 })
    ).not.toThrow();
    expect(formatBytes(5 * 2 ** 30)).toBe('5.0 GiB');
    let now = 0;
    let measured = 0;
    let onDisk = 100;
    const cache = new UsageCache(new Store(':memory:'), 30_000, () => now);
    const measure = async () => {
      measured += 1;
      return onDisk;
    };
    expect((await cache.get('k', measure)).bytes).toBe(100);
    cache.add('k', 50);
    now = 29_999;
    expect((await cache.get('k', measure)).bytes).toBe(150);
    expect(measured).toBe(1);
    // Too old: answered at once from the known figure while a new walk runs.
    onDisk = 400;
    now = 30_000;
    expect((await cache.get('k', measure)).bytes).toBe(150);
    expect(measured).toBe(2);
    await new Promise(r => setImmediate(r));
    expect((await cache.get('k', measure)).bytes).toBe(400);
    // A walk that fails keeps the old figure.
    now = 70_000;
    const failing = async () => {
      measured += 1;
      throw new Error('ssh down');
    };
    expect((await cache.get('k', failing)).bytes).toBe(400);
    await new Promise(r => setImmediate(r));
    expect((await cache.get('k', measure)).bytes).toBe(400);
    cache.invalidate('k');
    onDisk = 7;
    expect((await cache.get('k', measure)).bytes).toBe(7);
  });
});

describe('share links', () => {
  it('works until it expires, with one answer for expired, revoked and unknown', async () => {
    bucket(f, 'hpc-public').put('alice/poster.pdf', 'PDF');
    const link = await f.service.links.create(
      ALICE,
      'outreach',
      { path: 'poster.pdf', expiresInSeconds: 60 },
      'http://hub.example/services/hpc-bridge'
    );
    expect(link.id).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(link.url).toBe(
      `http://hub.example/services/hpc-bridge/api/v1/public/links/${link.id}`
    );
    const content = await f.service.links.open(link.id);
    expect(content.size).toBe(3);
    content.body.destroy();
    f.clock.now += 60_000;
    const expired = await refusal(f.service.links.open(link.id));
    const unknown = await refusal(f.service.links.open('x'.repeat(24)));
    expect(expired.statusCode).toBe(404);
    expect(expired.message).toBe(unknown.message);
  });

  it('stops at revoke, which only the owner may do', async () => {
    bucket(f, 'hpc-public').put('alice/a.txt', 'A');
    const link = await f.service.links.create(
      ALICE,
      'outreach',
      { path: 'a.txt', expiresInSeconds: 600 },
      'http://h'
    );
    expect(
      (
        await refusal(
          Promise.resolve().then(() =>
            f.service.links.revoke(BOB, link.id, 'http://h')
          )
        )
      ).statusCode
    ).toBe(404);
    (await f.service.links.open(link.id)).body.destroy();
    expect(
      f.service.links.revoke(ALICE, link.id, 'http://h').revokedAt
    ).not.toBeNull();
    expect((await refusal(f.service.links.open(link.id))).statusCode).toBe(404);
    expect(f.service.links.list(ALICE, 'http://h')).toHaveLength(1);
    expect(f.service.links.list(BOB, 'http://h')).toHaveLength(0);
  });

  it('answers 404 once the file is gone', async () => {
    const b = bucket(f, 'hpc-public');
    b.put('alice/a.txt', 'A');
    const link = await f.service.links.create(
      ALICE,
      'outreach',
      { path: 'a.txt', expiresInSeconds: 600 },
      'http://h'
    );
    b.objects.clear();
    expect((await refusal(f.service.links.open(link.id))).message).toBe(
      'This link does not exist or has expired'
    );
  });

  it.each([
    ['scratch', 'x', 'scratch'],
    ['archive', 'x', 'archive'],
    ['project', 'ml101/x', 'project'],
    ['sensitive', 'medical/x', 'sensitive']
  ])(
    'is refused on %s with a sentence naming the rule',
    async (tier, path, cls) => {
      const e = await refusal(
        f.service.links.create(
          ALICE,
          tier,
          { path, expiresInSeconds: 600 },
          'http://h'
        )
      );
      expect(e.statusCode).toBe(403);
      expect(e.message).toBe(
        `Refused by the data-class rule 'share links only on public tiers': tier ${tier} has class ${cls}, not public`
      );
    }
  );
});

describe('audit on sensitive tiers', () => {
  it('records every access with its outcome, refusals included', async () => {
    const data = 'patient';
    await f.service.files.write(
      ALICE,
      'sensitive',
      'medical/p.txt',
      bytes(data),
      { size: 7, overwrite: true }
    );
    await f.service.files.list(ALICE, 'sensitive', 'medical', 10);
    (
      await f.service.files.read(ALICE, 'sensitive', 'medical/p.txt')
    ).body.destroy();
    await f.service.files.stat(ALICE, 'sensitive', 'medical/p.txt');
    await f.service.files.mkdir(ALICE, 'sensitive', 'medical/d');
    await f.service.files.rename(
      ALICE,
      'sensitive',
      'medical/p.txt',
      'medical/q.txt'
    );
    await refusal(
      f.service.links.create(
        ALICE,
        'sensitive',
        { path: 'medical/q.txt', expiresInSeconds: 60 },
        'h'
      )
    );
    await refusal(
      f.service.codeAccess.grant(ALICE, 'sensitive', {
        path: 'medical/q.txt',
        mode: 'read',
        expiresInSeconds: 60
      })
    );
    await refusal(f.service.files.list(BOB, 'sensitive', '', 10));
    await f.service.files.delete(ALICE, 'sensitive', 'medical/q.txt');
    // Nothing on other tiers.
    await f.service.files.list(ALICE, 'archive', '', 10);
    const records = searchAudit(f.store, {
      action: 'storage.',
      limit: 100
    }).reverse();
    expect(
      records.map(r => [r.user, r.action, r.target, r.details.outcome])
    ).toEqual([
      ['alice', 'storage.write', 'sensitive:medical/p.txt', 'ok'],
      ['alice', 'storage.list', 'sensitive:medical', 'ok'],
      ['alice', 'storage.read', 'sensitive:medical/p.txt', 'ok'],
      ['alice', 'storage.stat', 'sensitive:medical/p.txt', 'ok'],
      ['alice', 'storage.mkdir', 'sensitive:medical/d', 'ok'],
      ['alice', 'storage.rename', 'sensitive:medical/p.txt', 'ok'],
      ['alice', 'storage.link', 'sensitive:medical/q.txt', 'refused'],
      ['alice', 'storage.code-access', 'sensitive:medical/q.txt', 'refused'],
      ['bob', 'storage.list', 'sensitive:', 'refused'],
      ['alice', 'storage.delete', 'sensitive:medical/q.txt', 'ok']
    ]);
    expect(records[0].details).toMatchObject({ size: 7 });
    expect(searchAudit(f.store, { q: 'q.txt', limit: 10 })).toHaveLength(3);
    expect(searchAudit(f.store, { user: 'bob', limit: 10 })).toHaveLength(1);
  });
});

describe('copies', () => {
  it('copies a folder from scratch to archive with progress', async () => {
    f.fs.put('/scratch/u-alice/run/a', 'aaa');
    f.fs.put('/scratch/u-alice/run/sub/b', 'bb');
    const t = await f.service.transfers.start(ALICE, 'scratch', {
      from: 'run',
      toTier: 'archive',
      to: 'runs/run1'
    });
    expect(t).toMatchObject({ state: 'running', bytesTotal: 5, filesTotal: 2 });
    await f.service.transfers.settled(t.id);
    const done = f.service.transfers.get(ALICE, t.id);
    expect(done).toMatchObject({
      state: 'completed',
      bytesDone: 5,
      filesDone: 2
    });
    expect([...bucket(f, 'hpc-archive').objects.keys()].sort()).toEqual([
      'alice/runs/run1/a',
      'alice/runs/run1/sub/b'
    ]);
    expect(() => f.service.transfers.get(BOB, t.id)).toThrow(DomainError);
  });

  it('refuses copies out of a sensitive tier, over quota, and onto an existing target', async () => {
    bucket(f, 'hpc-sensitive').put('medical/p', 'x');
    expect(
      (
        await refusal(
          f.service.transfers.start(ALICE, 'sensitive', {
            from: 'medical/p',
            toTier: 'archive',
            to: 'p'
          })
        )
      ).message
    ).toMatch(/only be copied to a sensitive tier/);
    bucket(f, 'hpc-archive').put('alice/big', Buffer.alloc(2000));
    expect(
      (
        await refusal(
          f.service.transfers.start(ALICE, 'archive', {
            from: 'big',
            toTier: 'scratch',
            to: 'big'
          })
        )
      ).code
    ).toBe('quota_exceeded');
    f.fs.put('/scratch/u-alice/big', 'x');
    bucket(f, 'hpc-archive').put('alice/small', 'y');
    expect(
      (
        await refusal(
          f.service.transfers.start(ALICE, 'archive', {
            from: 'small',
            toTier: 'scratch',
            to: 'big'
          })
        )
      ).statusCode
    ).toBe(409);
  });
});

describe('multipart uploads', () => {
  it('lays out equal parts of at least 16 MiB, at most 10,000', () => {
    expect(partLayout(0)).toEqual({ partSize: 16 * 2 ** 20, partCount: 1 });
    expect(partLayout(2 ** 30)).toEqual({
      partSize: 16 * 2 ** 20,
      partCount: 64
    });
    const huge = partLayout(5 * 2 ** 40);
    expect(huge.partCount).toBeLessThanOrEqual(10_000);
    expect(partSizeOf({ size: 40, partSize: 16, partCount: 3 }, 3)).toBe(8);
  });

  it('runs a bridge-mode upload and completes it after checking the parts', async () => {
    const session = await f.service.uploads.start(ALICE, 'archive', {
      path: 'big.bin',
      size: 10,
      direct: false
    });
    expect(session).toMatchObject({ mode: 'bridge', partCount: 1, parts: [] });
    const part = await f.service.uploads.putPart(
      ALICE,
      'archive',
      session.uploadId,
      1,
      bytes('0123456789'),
      10
    );
    expect(
      (
        await refusal(
          f.service.uploads.complete(BOB, 'archive', session.uploadId, {
            parts: []
          })
        )
      ).statusCode
    ).toBe(404);
    const entry = await f.service.uploads.complete(
      ALICE,
      'archive',
      session.uploadId,
      { parts: [part] }
    );
    expect(entry).toMatchObject({ path: 'big.bin', size: 10 });
    expect(
      bucket(f, 'hpc-archive').objects.get('alice/big.bin')?.data.toString()
    ).toBe('0123456789');
  });

  it('gives direct URLs where the store is browser-reachable, never on sensitive tiers', async () => {
    const direct = await f.service.uploads.start(ALICE, 'archive', {
      path: 'd.bin',
      size: 40 * 2 ** 20
    });
    expect(direct.mode).toBe('direct');
    expect(direct.parts.map(p => p.partNumber)).toEqual([1, 2, 3]);
    const sensitive = await f.service.uploads.start(ALICE, 'sensitive', {
      path: 'medical/d.bin',
      size: 10
    });
    expect(sensitive.mode).toBe('bridge');
  });

  it('aborts on a size or ETag mismatch, leaving nothing', async () => {
    const b = bucket(f, 'hpc-archive');
    const s = await f.service.uploads.start(ALICE, 'archive', {
      path: 'x.bin',
      size: 10
    });
    const [upload] = [...b.uploads.values()];
    upload.parts.set(1, Buffer.from('0123456789'));
    const e = await refusal(
      f.service.uploads.complete(ALICE, 'archive', s.uploadId, {
        parts: [{ partNumber: 1, etag: '"bad"' }]
      })
    );
    expect(e.message).toMatch(/ETag differs.*aborted/);
    expect(b.uploads.size).toBe(0);
    expect(b.objects.size).toBe(0);
    const s2 = await f.service.uploads.start(ALICE, 'archive', {
      path: 'x.bin',
      size: 10
    });
    const [u2] = [...b.uploads.values()];
    u2.parts.set(1, Buffer.from('01234'));
    const e2 = await refusal(
      f.service.uploads.complete(ALICE, 'archive', s2.uploadId, { parts: [] })
    );
    expect(e2.message).toMatch(/Part 1 has 5 bytes, expected 10/);
    expect(b.objects.size).toBe(0);
  });

  it('refuses sessions on sftp tiers with the reason', async () => {
    const e = await refusal(
      f.service.uploads.start(ALICE, 'scratch', { path: 'x', size: 1 })
    );
    expect(e.statusCode).toBe(400);
    expect(e.message).toMatch(/one stream/);
  });

  it('lets only the owner abort', async () => {
    const s = await f.service.uploads.start(ALICE, 'archive', {
      path: 'x.bin',
      size: 10
    });
    expect(
      (await refusal(f.service.uploads.abort(BOB, 'archive', s.uploadId)))
        .statusCode
    ).toBe(404);
    await f.service.uploads.abort(ALICE, 'archive', s.uploadId);
    expect(bucket(f, 'hpc-archive').uploads.size).toBe(0);
  });
});

describe('code access', () => {
  it('gives presigned URLs and snippets on s3 tiers, cluster paths on sftp tiers', async () => {
    bucket(f, 'hpc-archive').put('alice/data.csv', 'a,b');
    const s3 = await f.service.codeAccess.grant(ALICE, 'archive', {
      path: 'data.csv',
      mode: 'read',
      expiresInSeconds: 600
    });
    expect(s3.url).toMatch(/^https:\/\/s3.example\/alice\/data.csv/);
    expect(Object.keys(s3.snippets).sort()).toEqual([
      'curl',
      'fsspec',
      'pandas',
      'python'
    ]);
    expect(s3.snippets.pandas).toContain('pd.read_csv(');
    f.fs.put('/scratch/u-alice/x.csv', 'a');
    const sftp = await f.service.codeAccess.grant(ALICE, 'scratch', {
      path: 'x.csv',
      mode: 'read',
      expiresInSeconds: 600
    });
    expect(sftp).toMatchObject({
      url: null,
      clusterPath: '/scratch/u-alice/x.csv',
      expiresAt: null
    });
    expect(sftp.snippets.python).toContain(
      'open("/scratch/u-alice/x.csv", "rb")'
    );
  });
});

describe('quota reservations', () => {
  const payload = (n: number, c = 'x') => bytes(c.repeat(n));

  it('keeps parallel streamed writes within the quota (check and reserve in one step)', async () => {
    f.fs.put('/scratch/u-alice/old', Buffer.alloc(500));
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        f.service.files.write(ALICE, 'scratch', `p${i}`, payload(100), {
          size: 100,
          overwrite: true
        })
      )
    );
    const ok = results.filter(r => r.status === 'fulfilled');
    expect(ok).toHaveLength(5);
    for (const r of results) {
      if (r.status === 'rejected') {
        expect((r.reason as DomainError).code).toBe('quota_exceeded');
      }
    }
    const stored = [...f.fs.objects.values()].reduce(
      (n, o) => n + o.data.length,
      0
    );
    expect(stored).toBe(1000);
  });

  it('holds an upload session reservation across a usage refresh and a restart', async () => {
    await f.service.uploads.start(ALICE, 'project', {
      path: 'ml101/a.bin',
      size: 400,
      direct: false
    });
    // The figure is re-measured (the session's parts are invisible to listings).
    f.clock.now += 60_000;
    await f.service.tiers(ALICE);
    await new Promise(r => setImmediate(r));
    const e = await refusal(
      f.service.uploads.start(ALICE, 'project', {
        path: 'ml101/b.bin',
        size: 200,
        direct: false
      })
    );
    expect(e.code).toBe('quota_exceeded');
    const restarted = storageFixture(f.store);
    const e2 = await refusal(
      restarted.service.files.write(
        ALICE,
        'project',
        'ml101/c.bin',
        payload(200),
        { size: 200, overwrite: true }
      )
    );
    expect(e2.code).toBe('quota_exceeded');
  });

  it('signs each part URL with its length and aborts a complete whose parts exceed the reservation', async () => {
    const s = await f.service.uploads.start(ALICE, 'archive', {
      path: 'parts.bin',
      size: 40 * 2 ** 20
    });
    expect(
      s.parts.map(p => new URL(p.url).searchParams.get('content-length'))
    ).toEqual([
      String(16 * 2 ** 20),
      String(16 * 2 ** 20),
      String(8 * 2 ** 20)
    ]);

    const b = bucket(f, 'hpc-project');
    const q = await f.service.uploads.start(ALICE, 'project', {
      path: 'ml101/over.bin',
      size: 10,
      direct: false
    });
    const [upload] = [...b.uploads.values()];
    // A part far larger than declared (what an unbounded part URL would have let in).
    upload.parts.set(1, Buffer.alloc(300));
    const e = await refusal(
      f.service.uploads.complete(ALICE, 'project', q.uploadId, { parts: [] })
    );
    expect(e.statusCode).toBe(413);
    expect(e.code).toBe('quota_exceeded');
    expect(e.message).toMatch(/aborted and nothing was written/);
    expect(b.uploads.size).toBe(0);
    expect(b.objects.size).toBe(0);
    // The reservation went with the session: the whole quota is free again.
    await f.service.files.write(
      ALICE,
      'project',
      'ml101/all.bin',
      payload(500),
      {
        size: 500,
        overwrite: true
      }
    );
  });

  it('hands out no write URLs on s3 tiers; sftp tiers still get the cluster path', async () => {
    const e = await refusal(
      f.service.codeAccess.grant(ALICE, 'archive', {
        path: 'new.csv',
        mode: 'write',
        expiresInSeconds: 600
      })
    );
    expect(e.statusCode).toBe(400);
    expect(e.message).toMatch(/read URLs only/);
    const sftp = await f.service.codeAccess.grant(ALICE, 'scratch', {
      path: 'new.csv',
      mode: 'write',
      expiresInSeconds: 600
    });
    expect(sftp.clusterPath).toBe('/scratch/u-alice/new.csv');
  });

  it('releases a streamed write reservation when the write fails', async () => {
    const e = await refusal(
      f.service.files.write(ALICE, 'scratch', 'short', payload(10), {
        size: 900,
        overwrite: true
      })
    );
    expect(e.statusCode).toBe(400);
    await f.service.files.write(ALICE, 'scratch', 'full', payload(1000), {
      size: 1000,
      overwrite: true
    });
  });
});

describe('create if absent', () => {
  it('lets exactly one of ten parallel overwrite=false writes create a new name', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        f.service.files.write(
          ALICE,
          'archive',
          'once.txt',
          bytes(`writer ${i}`),
          {
            size: `writer ${i}`.length,
            overwrite: false
          }
        )
      )
    );
    const won = results.flatMap((r, i) =>
      r.status === 'fulfilled' ? [i] : []
    );
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') {
        expect(statusOfError(r.reason as DomainError)).toBe(409);
      }
    }
    expect(
      bucket(f, 'hpc-archive').objects.get('alice/once.txt')?.data.toString()
    ).toBe(`writer ${won[0]}`);
    // The claim ends with the write: a later overwrite=false write sees the file.
    const e = await refusal(
      f.service.files.write(ALICE, 'archive', 'once.txt', bytes('late'), {
        size: 4,
        overwrite: false
      })
    );
    expect(e.message).toMatch(/already exists/);
  });

  it('refuses a second writer of the same file while the first one runs', async () => {
    let release: () => void = () => undefined;
    const slow = new Readable({
      read() {
        release = () => {
          this.push('slow');
          this.push(null);
        };
      }
    });
    const first = f.service.files.write(ALICE, 'archive', 'busy.txt', slow, {
      size: 4,
      overwrite: true
    });
    await new Promise(r => setImmediate(r));
    const e = await refusal(
      f.service.files.write(ALICE, 'archive', 'busy.txt', bytes('fast'), {
        size: 4,
        overwrite: true
      })
    );
    expect(e.statusCode).toBe(409);
    expect(e.message).toMatch(/being written by another request/);
    release();
    await first;
    expect(
      bucket(f, 'hpc-archive').objects.get('alice/busy.txt')?.data.toString()
    ).toBe('slow');
  });

  it('does not replace a file that appeared on the cluster during the write', async () => {
    const body = new Readable({
      read() {
        f.fs.put('/scratch/u-alice/race.txt', 'theirs');
        this.push('mine');
        this.push(null);
      }
    });
    const e = await refusal(
      f.service.files.write(ALICE, 'scratch', 'race.txt', body, {
        size: 4,
        overwrite: false
      })
    );
    expect(e.statusCode).toBe(409);
    expect(f.fs.objects.get('/scratch/u-alice/race.txt')?.data.toString()).toBe(
      'theirs'
    );
  });

  it('aborts an overwrite=false upload session when the name was taken meanwhile', async () => {
    const b = bucket(f, 'hpc-archive');
    const s = await f.service.uploads.start(ALICE, 'archive', {
      path: 'taken.bin',
      size: 4,
      overwrite: false,
      direct: false
    });
    await f.service.uploads.putPart(
      ALICE,
      'archive',
      s.uploadId,
      1,
      bytes('mine'),
      4
    );
    b.put('alice/taken.bin', 'theirs');
    const e = await refusal(
      f.service.uploads.complete(ALICE, 'archive', s.uploadId, { parts: [] })
    );
    expect(e.statusCode).toBe(409);
    expect(b.uploads.size).toBe(0);
    expect(b.objects.get('alice/taken.bin')?.data.toString()).toBe('theirs');
  });
});

describe('open and abandoned upload sessions', () => {
  it('lists the owner’s open sessions of a tier and counts them toward usage', async () => {
    const a = await f.service.uploads.start(ALICE, 'project', {
      path: 'ml101/open.bin',
      size: 300,
      direct: false
    });
    await f.service.uploads.start(ALICE, 'archive', { path: 'x.bin', size: 1 });
    await f.service.uploads.start(BOB, 'project', {
      path: 'ml101/bob.bin',
      size: 100,
      direct: false
    });
    expect(
      f.service.uploads.list(ALICE, 'project').map(u => [u.uploadId, u.path])
    ).toEqual([[a.uploadId, 'ml101/open.bin']]);
    expect(f.service.uploads.list(ALICE, 'project')[0]).toMatchObject({
      mode: 'bridge',
      size: 300,
      partCount: 1
    });
    // 300 + 100 reserved by the two open sessions of ml101: 101 more do not fit.
    const e = await refusal(
      f.service.files.write(
        ALICE,
        'project',
        'ml101/y',
        bytes('y'.repeat(101)),
        {
          size: 101,
          overwrite: true
        }
      )
    );
    expect(e.code).toBe('quota_exceeded');
  });

  it('sweeps expired sessions: aborts the S3 upload and releases the reservation', async () => {
    const b = bucket(f, 'hpc-project');
    const s = await f.service.uploads.start(ALICE, 'project', {
      path: 'ml101/abandoned.bin',
      size: 500,
      direct: false
    });
    expect(await f.service.uploads.sweep()).toBe(0);
    expect(b.uploads.size).toBe(1);
    f.clock.now += 6 * 3600 * 1000 + 1;
    expect(f.service.uploads.list(ALICE, 'project')).toEqual([]);
    expect(await f.service.uploads.sweep()).toBe(1);
    expect(b.uploads.size).toBe(0);
    expect(
      (
        await refusal(
          f.service.uploads.complete(ALICE, 'project', s.uploadId, {
            parts: []
          })
        )
      ).statusCode
    ).toBe(404);
    await f.service.files.write(
      ALICE,
      'project',
      'ml101/all',
      bytes('z'.repeat(500)),
      {
        size: 500,
        overwrite: true
      }
    );
  });

  it('keeps a session whose abort failed for the next sweep', async () => {
    const b = bucket(f, 'hpc-archive');
    await f.service.uploads.start(ALICE, 'archive', { path: 'k.bin', size: 1 });
    f.clock.now += 6 * 3600 * 1000 + 1;
    const port = b.port('alice/');
    const abort = jest
      .spyOn(MemoryBackend.prototype, 'port')
      .mockImplementation(() => ({
        ...port,
        direct: {
          ...port.direct!,
          abortMultipart: async () => {
            throw new Error('s3 down');
          }
        }
      }));
    expect(await f.service.uploads.sweep()).toBe(0);
    abort.mockRestore();
    expect(await f.service.uploads.sweep()).toBe(1);
    expect(b.uploads.size).toBe(0);
  });
});

describe('storage edges', () => {
  it('stores multipart objects with the type of their name', async () => {
    const s = await f.service.uploads.start(ALICE, 'archive', {
      path: 'table.csv',
      size: 3,
      direct: false
    });
    await f.service.uploads.putPart(
      ALICE,
      'archive',
      s.uploadId,
      1,
      bytes('a,b'),
      3
    );
    await f.service.uploads.complete(ALICE, 'archive', s.uploadId, {
      parts: []
    });
    expect(bucket(f, 'hpc-archive').contentTypes.get('alice/table.csv')).toBe(
      'text/csv'
    );
  });

  it('answers the one 404 from a share link once its file was replaced', async () => {
    const b = bucket(f, 'hpc-public');
    b.put('alice/poster.pdf', 'PDF v1');
    const link = await f.service.links.create(
      ALICE,
      'outreach',
      { path: 'poster.pdf', expiresInSeconds: 3600 },
      'http://hub.example/services/hpc-bridge'
    );
    (await f.service.links.open(link.id)).body.destroy();
    // Same size, later modification: another file.
    b.objects.set('alice/poster.pdf', {
      data: Buffer.from('PDF v2'),
      modified: new Date(Date.now() + 5000)
    });
    const e = await refusal(f.service.links.open(link.id));
    expect(e.statusCode).toBe(404);
    expect(e.message).toBe('This link does not exist or has expired');
  });

  it('audits an aborted upload as its own action', async () => {
    const s = await f.service.uploads.start(ALICE, 'sensitive', {
      path: 'medical/a.bin',
      size: 3
    });
    await f.service.uploads.abort(ALICE, 'sensitive', s.uploadId);
    const actions = searchAudit(f.store, { user: 'alice', limit: 10 }).map(
      r => r.action
    );
    expect(actions).toContain('storage.upload-abort');
    expect(actions.filter(a => a === 'storage.upload')).toHaveLength(1);
  });

  it('keeps temporary names on the cluster within 255 bytes', () => {
    const long = `/scratch/u-alice/${'é'.repeat(127)}x`;
    expect(Buffer.byteLength(long.slice(long.lastIndexOf('/') + 1))).toBe(255);
    const temp = uploadTempName(long);
    const name = temp.slice(temp.lastIndexOf('/') + 1);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
    expect(name).toMatch(/^\.é+\.hpc-upload-[0-9a-f]{12}$/);
    expect(temp.startsWith('/scratch/u-alice/.')).toBe(true);
    expect(uploadTempName('/s/a.txt')).toMatch(/^\/s\/\.a\.txt\.hpc-upload-/);
  });
});
