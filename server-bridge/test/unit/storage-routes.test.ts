/** The storage and audit routes through app.inject, over in-memory backends. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BridgeApp } from '../../src/app';
import {
  AuditListSchema,
  ErrorBodySchema,
  FileEntrySchema,
  FileListSchema,
  OpenUploadListSchema,
  Routes,
  ShareLinkSchema,
  TierListSchema,
  TransferSchema,
  UploadResultSchema,
  UploadSessionSchema
} from '../../src/contract';
import { testStore } from './test-store';
import { BASE, BRIDGE_SCOPE, HUB_USERS, testApp } from './app-fixture';
import { bucket, storageFixture, type IStorageFixture } from './storage-fakes';

HUB_USERS['st-alice'] = {
  kind: 'user',
  name: 'alice',
  groups: ['climate', 'medical', 'ml101'],
  scopes: [BRIDGE_SCOPE, 'access:servers!user=alice']
};
HUB_USERS['st-bob'] = {
  kind: 'user',
  name: 'bob',
  groups: ['genomics', 'ml101'],
  scopes: [BRIDGE_SCOPE, 'access:servers!user=bob']
};
HUB_USERS['st-admin'] = {
  kind: 'user',
  name: 'admin',
  admin: true,
  groups: [],
  scopes: [BRIDGE_SCOPE, 'access:servers!user=admin']
};

const ALICE = { authorization: 'token st-alice' };
const BOB = { authorization: 'token st-bob' };
const ADMIN = { authorization: 'token st-admin' };

let f: IStorageFixture;
let app: BridgeApp;

beforeEach(async () => {
  const store = testStore();
  f = storageFixture(store);
  ({ app } = await testApp({
    store,
    storage: f.service,
    close: async () => store.close()
  }));
});

afterEach(async () => {
  await app.close();
});

const url = (route: string, query: Record<string, string> = {}) => {
  const q = new URLSearchParams(query).toString();
  return `${BASE}${route}${q === '' ? '' : `?${q}`}`;
};

function put(
  tier: string,
  path: string,
  body: Buffer | string,
  headers: Record<string, string> = {}
) {
  return app.inject({
    method: 'PUT',
    url: url(Routes.tierContent(tier), { path }),
    headers: {
      ...ALICE,
      'content-type': 'application/octet-stream',
      ...headers
    },
    payload: body
  });
}

describe('storage routes', () => {
  it('lists tiers and refuses anonymous callers', async () => {
    const anon = await app.inject({ url: url(Routes.tiers) });
    expect(anon.statusCode).toBe(401);
    const res = await app.inject({ url: url(Routes.tiers), headers: ALICE });
    expect(res.statusCode).toBe(200);
    const { tiers } = TierListSchema.parse(res.json());
    expect(tiers.map(t => t.name)).toContain('sensitive');
  });

  it('uploads a streamed body, then serves it with length, type and ranges', async () => {
    const data = 'a,b\n1,2\n';
    const sha = createHash('sha256').update(data).digest('hex');
    const up = await put('archive', 'd/t.csv', data, {
      'x-checksum-sha256': sha
    });
    expect(up.statusCode).toBe(201);
    expect(UploadResultSchema.parse(up.json()).sha256).toBe(sha);
    const get = await app.inject({
      url: url(Routes.tierContent('archive'), {
        path: 'd/t.csv',
        download: 'true'
      }),
      headers: ALICE
    });
    expect(get.statusCode).toBe(200);
    expect(get.body).toBe(data);
    expect(get.headers['content-type']).toBe('text/csv');
    expect(get.headers['content-length']).toBe(String(data.length));
    expect(get.headers['accept-ranges']).toBe('bytes');
    expect(get.headers['content-disposition']).toBe(
      `attachment; filename="t.csv"; filename*=UTF-8''t.csv`
    );
    const range = await app.inject({
      url: url(Routes.tierContent('archive'), { path: 'd/t.csv' }),
      headers: { ...ALICE, range: 'bytes=4-' }
    });
    expect(range.statusCode).toBe(206);
    expect(range.body).toBe('1,2\n');
    expect(range.headers['content-range']).toBe(`bytes 4-7/${data.length}`);
    const outside = await app.inject({
      url: url(Routes.tierContent('archive'), { path: 'd/t.csv' }),
      headers: { ...ALICE, range: 'bytes=100-' }
    });
    expect(outside.statusCode).toBe(416);
  });

  it('accepts any content type on the streamed PUT without buffering it as text', async () => {
    const res = await put('archive', 'notes.txt', 'plain', {
      'content-type': 'text/plain'
    });
    expect(res.statusCode).toBe(201);
    expect(
      bucket(f, 'hpc-archive').objects.get('alice/notes.txt')?.data.toString()
    ).toBe('plain');
  });

  it('requires Content-Length on streamed uploads', async () => {
    const res = await app.inject({
      method: 'PUT',
      url: url(Routes.tierContent('archive'), { path: 'x' }),
      headers: {
        ...ALICE,
        'content-type': 'application/octet-stream',
        'transfer-encoding': 'chunked'
      },
      payload: Readable.from([Buffer.from('abc')])
    });
    expect(res.statusCode).toBe(411);
    expect(ErrorBodySchema.parse(res.json()).error.message).toMatch(
      /Content-Length is required/
    );
    expect(bucket(f, 'hpc-archive').objects.size).toBe(0);
  });

  it('answers 413 quota_exceeded from the declared size, writing nothing', async () => {
    const res = await put('scratch', 'big', Buffer.alloc(1001));
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('quota_exceeded');
    expect(f.fs.objects.size).toBe(0);
  });

  it('validates paths (400) and keeps users to their groups (403)', async () => {
    for (const path of ['../bob', '%2e%2e/bob', '/scratch/bob', 'a\0b']) {
      const res = await app.inject({
        url: url(Routes.tierFiles('scratch'), { path }),
        headers: ALICE
      });
      expect(res.statusCode).toBe(400);
    }
    const raw = await app.inject({
      url: `${BASE}${Routes.tierFiles('scratch')}?path=%252e%252e%252fbob`,
      headers: ALICE
    });
    expect(raw.statusCode).toBe(400);
    const other = await app.inject({
      url: url(Routes.tierFiles('project'), { path: 'genomics' }),
      headers: ALICE
    });
    expect(other.statusCode).toBe(403);
  });

  it('lists, makes folders, renames, copies and deletes', async () => {
    expect(
      (
        await app.inject({
          method: 'POST',
          url: url(Routes.tierMkdir('project')),
          headers: ALICE,
          payload: { path: 'ml101/d' }
        })
      ).statusCode
    ).toBe(201);
    await put('project', 'ml101/d/a.txt', 'A');
    const list = FileListSchema.parse(
      (
        await app.inject({
          url: url(Routes.tierFiles('project'), { path: 'ml101/d' }),
          headers: ALICE
        })
      ).json()
    );
    expect(list.entries.map(e => e.path)).toEqual(['ml101/d/a.txt']);
    const renamed = await app.inject({
      method: 'POST',
      url: url(Routes.tierRename('project')),
      headers: ALICE,
      payload: { from: 'ml101/d/a.txt', to: 'ml101/d/b.txt' }
    });
    expect(FileEntrySchema.parse(renamed.json()).path).toBe('ml101/d/b.txt');
    const copy = await app.inject({
      method: 'POST',
      url: url(Routes.tierCopy('project')),
      headers: ALICE,
      payload: { from: 'ml101/d/b.txt', toTier: 'archive', to: 'b.txt' }
    });
    expect(copy.statusCode).toBe(202);
    const transfer = TransferSchema.parse(copy.json());
    await f.service.transfers.settled(transfer.id);
    const after = await app.inject({
      url: url(Routes.transfer(transfer.id)),
      headers: ALICE
    });
    expect(TransferSchema.parse(after.json())).toMatchObject({
      state: 'completed',
      bytesDone: 1
    });
    expect(
      (
        await app.inject({
          url: url(Routes.transfer(transfer.id)),
          headers: BOB
        })
      ).statusCode
    ).toBe(404);
    const del = await app.inject({
      method: 'DELETE',
      url: url(Routes.tierFiles('project'), { path: 'ml101/d' }),
      headers: ALICE
    });
    expect(del.statusCode).toBe(204);
  });

  it('runs a bridge-mode multipart upload through the part route', async () => {
    const start = await app.inject({
      method: 'POST',
      url: url(Routes.tierUploads('archive')),
      headers: ALICE,
      payload: { path: 'm.bin', size: 6, direct: false }
    });
    expect(start.statusCode).toBe(201);
    const session = UploadSessionSchema.parse(start.json());
    const md5 = createHash('md5').update('abcdef').digest('base64');
    const part = await app.inject({
      method: 'PUT',
      url: url(Routes.tierUploadPart('archive', session.uploadId, 1)),
      headers: {
        ...ALICE,
        'content-type': 'application/octet-stream',
        'content-md5': md5
      },
      payload: 'abcdef'
    });
    expect(part.statusCode).toBe(200);
    expect(part.headers.etag).toBe(
      `"${createHash('md5').update('abcdef').digest('hex')}"`
    );
    const bobComplete = await app.inject({
      method: 'POST',
      url: url(Routes.tierUploadComplete('archive', session.uploadId)),
      headers: BOB,
      payload: {}
    });
    expect(bobComplete.statusCode).toBe(404);
    const done = await app.inject({
      method: 'POST',
      url: url(Routes.tierUploadComplete('archive', session.uploadId)),
      headers: ALICE,
      payload: { parts: [part.json()] }
    });
    expect(done.statusCode).toBe(200);
    expect(FileEntrySchema.parse(done.json())).toMatchObject({
      path: 'm.bin',
      size: 6
    });
  });

  it("lists the caller's open sessions with GET …/uploads", async () => {
    const session = UploadSessionSchema.parse(
      (
        await app.inject({
          method: 'POST',
          url: url(Routes.tierUploads('archive')),
          headers: ALICE,
          payload: { path: 'open.bin', size: 6 }
        })
      ).json()
    );
    const mine = await app.inject({
      url: url(Routes.tierUploads('archive')),
      headers: ALICE
    });
    expect(mine.statusCode).toBe(200);
    expect(OpenUploadListSchema.parse(mine.json()).uploads).toEqual([
      expect.objectContaining({
        uploadId: session.uploadId,
        path: 'open.bin',
        size: 6
      })
    ]);
    const theirs = await app.inject({
      url: url(Routes.tierUploads('archive')),
      headers: BOB
    });
    expect(OpenUploadListSchema.parse(theirs.json()).uploads).toEqual([]);
  });

  it('refuses a name over 255 bytes and a foreign cursor with 400 and a sentence', async () => {
    const long = await put('scratch', 'n'.repeat(300), 'x');
    expect(long.statusCode).toBe(400);
    expect(
      JSON.stringify(ErrorBodySchema.parse(long.json()).error.details)
    ).toMatch(/at most 255 bytes/);
    expect(f.fs.writes).toBe(0);
    const cursor = await app.inject({
      url: url(Routes.tierFiles('archive'), { path: '', cursor: 'forged' }),
      headers: ALICE
    });
    expect(cursor.statusCode).toBe(400);
    expect(ErrorBodySchema.parse(cursor.json()).error.message).toMatch(
      /cursor/
    );
  });

  it('aborts a session with DELETE', async () => {
    const session = UploadSessionSchema.parse(
      (
        await app.inject({
          method: 'POST',
          url: url(Routes.tierUploads('archive')),
          headers: ALICE,
          payload: { path: 'm.bin', size: 6 }
        })
      ).json()
    );
    expect(session.mode).toBe('direct');
    const res = await app.inject({
      method: 'DELETE',
      url: url(Routes.tierUpload('archive', session.uploadId)),
      headers: ALICE
    });
    expect(res.statusCode).toBe(204);
    expect(bucket(f, 'hpc-archive').uploads.size).toBe(0);
  });

  it('serves a public link anonymously until revoked', async () => {
    await put('outreach', 'page.html', '<script>x</script>');
    const created = await app.inject({
      method: 'POST',
      url: url(Routes.tierLinks('outreach')),
      headers: { ...ALICE, host: 'hub.example:8000' },
      payload: { path: 'page.html', expiresInSeconds: 600 }
    });
    expect(created.statusCode).toBe(201);
    const link = ShareLinkSchema.parse(created.json());
    expect(link.url).toBe(
      `http://hub.example:8000/services/hpc-bridge/api/v1/public/links/${link.id}`
    );
    const anon = await app.inject({ url: url(Routes.publicLink(link.id)) });
    expect(anon.statusCode).toBe(200);
    expect(anon.body).toBe('<script>x</script>');
    expect(anon.headers['content-disposition']).toMatch(
      /^attachment; filename="page.html"/
    );
    expect(anon.headers['content-security-policy']).toBe('sandbox');
    const revoked = await app.inject({
      method: 'DELETE',
      url: url(Routes.link(link.id)),
      headers: ALICE
    });
    expect(ShareLinkSchema.parse(revoked.json()).revokedAt).not.toBeNull();
    const gone = await app.inject({ url: url(Routes.publicLink(link.id)) });
    expect(gone.statusCode).toBe(404);
    const unknown = await app.inject({
      url: url(Routes.publicLink('A'.repeat(24)))
    });
    expect(unknown.json()).toEqual(gone.json());
  });

  it('refuses a link on the sensitive tier and shows the audit to admins only', async () => {
    await put('sensitive', 'medical/p.txt', 'P');
    const refused = await app.inject({
      method: 'POST',
      url: url(Routes.tierLinks('sensitive')),
      headers: ALICE,
      payload: { path: 'medical/p.txt' }
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.message).toBe(
      "Refused by the data-class rule 'share links only on public tiers': tier sensitive has class sensitive, not public"
    );
    expect(
      (await app.inject({ url: url(Routes.audit), headers: ALICE })).statusCode
    ).toBe(403);
    const audit = await app.inject({
      url: url(Routes.audit, { action: 'storage.', q: 'sensitive:' }),
      headers: ADMIN
    });
    expect(audit.statusCode).toBe(200);
    const { records } = AuditListSchema.parse(audit.json());
    expect(records.map(r => r.action)).toEqual([
      'storage.link',
      'storage.write'
    ]);
    const jsonl = await app.inject({
      url: url(Routes.audit, { format: 'jsonl', user: 'alice' }),
      headers: ADMIN
    });
    expect(jsonl.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const lines = jsonl.body
      .trimEnd()
      .split('\n')
      .map(l => JSON.parse(l) as unknown);
    expect(lines).toHaveLength(2);
  });

  it('gives code access on s3 tiers and refuses it on sensitive ones', async () => {
    await put('archive', 'x.csv', 'a');
    const ok = await app.inject({
      method: 'POST',
      url: url(Routes.tierCodeAccess('archive')),
      headers: ALICE,
      payload: { path: 'x.csv' }
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().url).toMatch(/^https:\/\/s3.example\//);
    const no = await app.inject({
      method: 'POST',
      url: url(Routes.tierCodeAccess('sensitive')),
      headers: ALICE,
      payload: { path: 'medical/x' }
    });
    expect(no.statusCode).toBe(403);
  });
});
