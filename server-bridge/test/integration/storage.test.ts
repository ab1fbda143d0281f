/**
 * Storage tiers through the hub's proxy against the stack's real Swift (s3api) and sshd:
 * tiers with usage, isolation against crafted paths, 1 GB through every upload and
 * download path with equal SHA-256 and a flat bridge RSS, 10,000 objects page by page,
 * public links, the sensitive tier's refusals and audit trail, quota overflow, and the
 * side doors around the limits (parallel writes, part URLs, create-if-absent races,
 * long names, links to replaced files, write URLs for code).
 */
import {
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client
} from '@aws-sdk/client-s3';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  AuditListSchema,
  CodeAccessSchema,
  ErrorBodySchema,
  FileEntrySchema,
  FileListSchema,
  OpenUploadListSchema,
  Routes,
  ShareLinkSchema,
  TierListSchema,
  UploadResultSchema,
  UploadSessionSchema
} from '../../src/contract';
import {
  BRIDGE_URL,
  STACK_DIR,
  bridge,
  bridgeStore,
  createUserToken,
  send
} from './stack';

jest.setTimeout(180_000);

const GB = 1024 ** 3;
const MIB = 1024 ** 2;
const RUN = randomBytes(4).toString('hex');

let alice: string;
let bob: string;
let admin: string;

beforeAll(async () => {
  [alice, bob, admin] = await Promise.all([
    createUserToken('alice'),
    createUserToken('bob'),
    createUserToken('admin')
  ]);
});

const q = (route: string, query: Record<string, string>): string =>
  `${route}?${new URLSearchParams(query).toString()}`;

/** A deterministic pseudo-random byte stream (AES-CTR of zeros), `size` bytes in 1 MiB chunks. */
function pseudoRandom(size: number, seed: string): Readable {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(MIB);
  let left = size;
  return new Readable({
    highWaterMark: 4 * MIB,
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, MIB);
      left -= n;
      this.push(cipher.update(n === MIB ? zeros : zeros.subarray(0, n)));
    }
  });
}

/** The SHA-256 of `pseudoRandom(size, seed)`, computed by streaming it. */
async function expectedSha(size: number, seed: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of pseudoRandom(size, seed)) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

/** Streams a body to the bridge with Content-Length (node:http: no buffering, no chunking). */
function putStream(
  path: string,
  token: string,
  body: Readable,
  length: number,
  headers: Record<string, string> = {}
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${BRIDGE_URL}${path}`,
      {
        method: 'PUT',
        // A connection of its own: a pooled one the proxy closes as idle just as the
        // upload starts fails its first write (EPIPE) before the proxy reads anything.
        agent: false,
        headers: {
          Authorization: `token ${token}`,
          'Content-Type': 'application/octet-stream',
          'Content-Length': String(length),
          ...headers
        }
      },
      res => {
        const chunks: Buffer[] = [];
        res.on('data', c => chunks.push(c as Buffer));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // keep the text
          }
          body.destroy();
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      }
    );
    // An early answer (413) closes the connection while we still send: that is fine.
    req.on('error', e => {
      if (!req.writableFinished) {
        body.destroy();
      }
      reject(e);
    });
    body.pipe(req);
  });
}

/** Downloads `url` and returns the SHA-256 and length of its body, hashing as it streams. */
async function hashDownload(
  url: string,
  headers: Record<string, string> = {}
): Promise<{ status: number; sha256: string; bytes: number }> {
  const res = await fetch(url, { headers });
  const hash = createHash('sha256');
  let bytes = 0;
  if (res.body !== null) {
    for await (const chunk of res.body) {
      hash.update(chunk);
      bytes += chunk.length;
    }
  }
  return { status: res.status, sha256: hash.digest('hex'), bytes };
}

/** Samples the bridge's resident memory while `work` runs; returns the baseline and peak. */
async function withRss<T>(
  label: string,
  work: () => Promise<T>
): Promise<{ result: T; baseMB: number; peakMB: number }> {
  // The hub-managed bridge, or every replica of `./stack/up --replicas N` together.
  const pids = readdirSync(join(STACK_DIR, 'run'))
    .filter(f => /^bridge(-\d+)?\.pid$/.test(f))
    .map(f => readFileSync(join(STACK_DIR, 'run', f), 'utf8').trim());
  const rss = (): number =>
    pids.reduce((sum, pid) => {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const m = /VmRSS:\s+(\d+) kB/.exec(status);
      return sum + (m === null ? 0 : Number(m[1]) / 1024);
    }, 0);
  const baseMB = rss();
  let peakMB = baseMB;
  const timer = setInterval(() => {
    peakMB = Math.max(peakMB, rss());
  }, 100);
  try {
    const result = await work();
    peakMB = Math.max(peakMB, rss());
    console.log(
      `${label}: bridge RSS ${baseMB.toFixed(0)} MB before, peak ${peakMB.toFixed(0)} MB (+${(peakMB - baseMB).toFixed(0)} MB)`
    );
    return { result, baseMB, peakMB };
  } finally {
    clearInterval(timer);
  }
}

function bridgeS3(): S3Client {
  const creds = JSON.parse(
    readFileSync(join(STACK_DIR, 's3', 'credentials.json'), 'utf8')
  ) as Record<string, { accessKeyId: string; secretAccessKey: string }>;
  return new S3Client({
    endpoint: 'http://127.0.0.1:8080',
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: creds.bridge
  });
}

describe('tiers', () => {
  it('lists the stack tiers with usage and quota for alice', async () => {
    const res = await bridge(Routes.tiers, alice);
    expect(res.status).toBe(200);
    const { tiers } = TierListSchema.parse(res.body);
    expect(tiers.map(t => [t.name, t.class, t.adapter])).toEqual([
      ['scratch', 'scratch', 'sftp'],
      ['project', 'project', 's3'],
      ['archive', 'archive', 's3'],
      ['outreach', 'public', 's3'],
      ['sensitive', 'sensitive', 's3']
    ]);
    const project = tiers.find(t => t.name === 'project');
    expect(project?.groups).toEqual(['climate', 'ml101']);
    expect(project?.usage.ml101?.quotaBytes).toBe(5 * GB);
    expect(project?.usage.ml101?.bytes).toEqual(expect.any(Number));
    expect(tiers.find(t => t.name === 'scratch')?.usage['']).toMatchObject({
      quotaBytes: 20 * GB,
      bytes: expect.any(Number)
    });
    const bobTiers = TierListSchema.parse(
      (await bridge(Routes.tiers, bob)).body
    ).tiers;
    expect(bobTiers.map(t => t.name)).not.toContain('sensitive');
    expect(bobTiers.find(t => t.name === 'project')?.groups).toEqual([
      'genomics',
      'ml101'
    ]);
  });
});

describe('isolation', () => {
  const SECRET = `bob-secret-${RUN}`;

  beforeAll(async () => {
    for (const [tier, path] of [
      ['project', `genomics/secret-${RUN}.csv`],
      ['scratch', `secret-${RUN}.txt`]
    ]) {
      const res = await putStream(
        q(Routes.tierContent(tier), { path }),
        bob,
        Readable.from([Buffer.from(SECRET)]),
        SECRET.length
      );
      expect(res.status).toBe(201);
    }
  });

  afterAll(async () => {
    await send(
      bob,
      'DELETE',
      q(Routes.tierFiles('project'), { path: `genomics/secret-${RUN}.csv` })
    );
    await send(
      bob,
      'DELETE',
      q(Routes.tierFiles('scratch'), { path: `secret-${RUN}.txt` })
    );
  });

  /** Raw query strings, so that encodings reach the bridge as written. */
  const crafted = [
    `path=..%2Fbob`,
    `path=..%2Fbob%2Fsecret-${RUN}.txt`,
    `path=%252e%252e%252fbob`,
    `path=%2e%2e%2fbob`,
    `path=%2Fscratch%2Fbob`,
    `path=%2Fscratch%2Fbob%2Fsecret-${RUN}.txt`,
    `path=a%00b`,
    `path=secret-${RUN}.txt%00`,
    `path=.%2F..%2F..%2Fscratch%2Fbob`
  ];

  it.each(crafted)("alice cannot reach bob's scratch with ?%s", async query => {
    for (const route of [
      Routes.tierFiles('scratch'),
      Routes.tierStat('scratch'),
      Routes.tierContent('scratch')
    ]) {
      const res = await bridge(`${route}?${query}`, alice);
      expect([400, 403, 404]).toContain(res.status);
      expect(JSON.stringify(res.body)).not.toContain(SECRET);
      ErrorBodySchema.parse(res.body);
    }
    const write = await putStream(
      `${Routes.tierContent('scratch')}?${query}`,
      alice,
      Readable.from([Buffer.from('x')]),
      1
    );
    expect([400, 403, 404]).toContain(write.status);
  });

  it("alice cannot list, read or write bob's project group", async () => {
    for (const query of [
      'path=genomics',
      `path=genomics%2Fsecret-${RUN}.csv`,
      `path=ml101%2F..%2Fgenomics`,
      `path=%2Fgenomics`,
      `path=ml101%2F%252e%252e%2Fgenomics`
    ]) {
      for (const route of [
        Routes.tierFiles('project'),
        Routes.tierStat('project'),
        Routes.tierContent('project')
      ]) {
        const res = await bridge(`${route}?${query}`, alice);
        expect([400, 403, 404]).toContain(res.status);
        expect(JSON.stringify(res.body)).not.toContain(SECRET);
      }
    }
    const write = await putStream(
      q(Routes.tierContent('project'), { path: `genomics/x-${RUN}` }),
      alice,
      Readable.from([Buffer.from('x')]),
      1
    );
    expect(write.status).toBe(403);
    const root = FileListSchema.parse(
      (await bridge(q(Routes.tierFiles('project'), { path: '' }), alice)).body
    );
    expect(root.entries.map(e => e.name)).toEqual(['climate', 'ml101']);
    // Bob himself reads it: the file is there.
    const own = await fetch(
      `${BRIDGE_URL}${q(Routes.tierContent('project'), { path: `genomics/secret-${RUN}.csv` })}`,
      { headers: { Authorization: `token ${bob}` } }
    );
    expect(await own.text()).toBe(SECRET);
  });
});

describe('1 GB through every path', () => {
  const SIZE = GB;
  let sha: string;

  beforeAll(async () => {
    sha = await expectedSha(SIZE, 'one-gigabyte');
  });

  async function downloadThroughBridge(
    tier: string,
    path: string
  ): Promise<void> {
    const { result } = await withRss(`${tier} download`, () =>
      hashDownload(`${BRIDGE_URL}${q(Routes.tierContent(tier), { path })}`, {
        Authorization: `token ${alice}`
      })
    );
    expect(result).toEqual({ status: 200, sha256: sha, bytes: SIZE });
  }

  it.each(['scratch', 'archive'])(
    'streams a 1 GB PUT to %s and reads it back with the same SHA-256',
    async tier => {
      const path = `big-${RUN}.bin`;
      const { result, baseMB, peakMB } = await withRss(
        `${tier} streamed upload`,
        () =>
          putStream(
            q(Routes.tierContent(tier), { path }),
            alice,
            pseudoRandom(SIZE, 'one-gigabyte'),
            SIZE,
            { 'x-checksum-sha256': sha }
          )
      );
      expect(result.status).toBe(201);
      expect(UploadResultSchema.parse(result.body)).toMatchObject({
        sha256: sha,
        entry: { size: SIZE }
      });
      expect(peakMB - baseMB).toBeLessThan(300);
      await downloadThroughBridge(tier, path);
      await send(alice, 'DELETE', q(Routes.tierFiles(tier), { path }));
    },
    900_000
  );

  it('uploads 1 GB to archive with presigned parts straight to S3, then downloads it via the bridge and a presigned GET', async () => {
    const path = `direct-${RUN}.bin`;
    const start = await send(alice, 'POST', Routes.tierUploads('archive'), {
      path,
      size: SIZE
    });
    expect(start.status).toBe(201);
    const session = UploadSessionSchema.parse(start.body);
    expect(session.mode).toBe('direct');
    expect(session.parts).toHaveLength(session.partCount);
    // The bridge is not in this path: its RSS must not move either.
    const { result: etags } = await withRss(
      'direct multipart upload',
      async () => {
        const out: { partNumber: number; etag: string }[] = [];
        const source = pseudoRandom(SIZE, 'one-gigabyte');
        let pending: Buffer[] = [];
        let pendingBytes = 0;
        let partNumber = 1;
        const inFlight = new Set<Promise<void>>();
        const sendPart = (n: number, body: Buffer) => {
          const url = session.parts[n - 1].url;
          const p = (async () => {
            const res = await fetch(url, {
              method: 'PUT',
              body,
              headers: {
                'Content-MD5': createHash('md5').update(body).digest('base64')
              }
            });
            expect(res.status).toBe(200);
            out.push({ partNumber: n, etag: res.headers.get('etag') ?? '' });
          })();
          inFlight.add(p);
          void p.finally(() => inFlight.delete(p));
        };
        for await (const chunk of source) {
          pending.push(chunk as Buffer);
          pendingBytes += (chunk as Buffer).length;
          if (pendingBytes === session.partSize) {
            sendPart(partNumber++, Buffer.concat(pending));
            pending = [];
            pendingBytes = 0;
            while (inFlight.size >= 4) {
              await Promise.race(inFlight);
            }
          }
        }
        if (pendingBytes > 0) {
          sendPart(partNumber++, Buffer.concat(pending));
        }
        await Promise.all(inFlight);
        return out;
      }
    );
    expect(etags).toHaveLength(session.partCount);
    const done = await send(
      alice,
      'POST',
      Routes.tierUploadComplete('archive', session.uploadId),
      { parts: etags.sort((a, b) => a.partNumber - b.partNumber) }
    );
    expect(done.status).toBe(200);
    expect(FileEntrySchema.parse(done.body).size).toBe(SIZE);
    await downloadThroughBridge('archive', path);
    const access = await send(alice, 'POST', Routes.tierCodeAccess('archive'), {
      path,
      mode: 'read',
      expiresInSeconds: 600
    });
    const url = CodeAccessSchema.parse(access.body).url ?? '';
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:8080\//);
    expect(await hashDownload(url)).toEqual({
      status: 200,
      sha256: sha,
      bytes: SIZE
    });
    await send(alice, 'DELETE', q(Routes.tierFiles('archive'), { path }));
  }, 900_000);

  it('aborts a multipart upload whose parts do not add up, leaving nothing', async () => {
    const path = `short-${RUN}.bin`;
    const session = UploadSessionSchema.parse(
      (
        await send(alice, 'POST', Routes.tierUploads('archive'), {
          path,
          size: 20 * MIB,
          direct: false
        })
      ).body
    );
    expect(session.mode).toBe('bridge');
    const part = await putStream(
      Routes.tierUploadPart('archive', session.uploadId, 1),
      alice,
      pseudoRandom(session.partSize, 'short'),
      session.partSize
    );
    expect(part.status).toBe(200);
    const done = await send(
      alice,
      'POST',
      Routes.tierUploadComplete('archive', session.uploadId),
      {}
    );
    expect(done.status).toBe(400);
    expect(ErrorBodySchema.parse(done.body).error.message).toMatch(
      /Part 2 of 2 is missing.*aborted/
    );
    expect(
      (await bridge(q(Routes.tierStat('archive'), { path }), alice)).status
    ).toBe(404);
  });
});

describe('10,000 objects', () => {
  const COUNT = 10_000;
  const PREFIX = 'ml101/many/';

  beforeAll(async () => {
    const s3 = bridgeS3();
    const existing = new Set<string>();
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: 'hpc-project',
          Prefix: PREFIX,
          ContinuationToken: token
        })
      );
      for (const o of page.Contents ?? []) {
        existing.add(o.Key ?? '');
      }
      token = page.NextContinuationToken;
    } while (token !== undefined);
    const missing = Array.from(
      { length: COUNT },
      (_, i) => `${PREFIX}f${String(i).padStart(5, '0')}.txt`
    ).filter(k => !existing.has(k));
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < missing.length) {
          const key = missing[next++];
          await s3.send(
            new PutObjectCommand({ Bucket: 'hpc-project', Key: key, Body: key })
          );
        }
      })
    );
    s3.destroy();
  }, 600_000);

  it('lists them page by page, every name once', async () => {
    const names = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: Record<string, string> = {
        path: 'ml101/many',
        limit: '1000'
      };
      if (cursor !== null) {
        query.cursor = cursor;
      }
      const res = await bridge(q(Routes.tierFiles('project'), query), alice);
      expect(res.status).toBe(200);
      const page = FileListSchema.parse(res.body);
      expect(page.entries.length).toBeLessThanOrEqual(1000);
      for (const e of page.entries) {
        names.add(e.name);
      }
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== null);
    expect(names.size).toBe(COUNT);
    expect(pages).toBeGreaterThanOrEqual(10);
    expect(names.has('f00000.txt') && names.has('f09999.txt')).toBe(true);
  });
});

describe('public links', () => {
  const TEXT = `hello world ${RUN}`;
  const path = `poster-${RUN}.txt`;

  beforeAll(async () => {
    const res = await putStream(
      q(Routes.tierContent('outreach'), { path }),
      alice,
      Readable.from([Buffer.from(TEXT)]),
      TEXT.length
    );
    expect(res.status).toBe(201);
  });

  async function createLink(): Promise<
    ReturnType<typeof ShareLinkSchema.parse>
  > {
    const res = await send(alice, 'POST', Routes.tierLinks('outreach'), {
      path,
      expiresInSeconds: 3600
    });
    expect(res.status).toBe(201);
    return ShareLinkSchema.parse(res.body);
  }

  it('works anonymously and stops when revoked', async () => {
    const link = await createLink();
    expect(link.url).toBe(
      `http://127.0.0.1:8000/services/hpc-bridge${Routes.publicLink(link.id)}`
    );
    const anon = await fetch(link.url);
    expect(anon.status).toBe(200);
    expect(anon.headers.get('content-disposition')).toMatch(
      /^attachment; filename="poster-/
    );
    expect(await anon.text()).toBe(TEXT);
    const revoked = await send(alice, 'DELETE', Routes.link(link.id));
    expect(revoked.status).toBe(200);
    const after = await fetch(link.url);
    expect(after.status).toBe(404);
    expect(await after.text()).not.toContain(TEXT);
  });

  it('stops at its expiry (the stored expiry moved into the past)', async () => {
    const link = await createLink();
    expect((await fetch(link.url)).status).toBe(200);
    const store = bridgeStore();
    try {
      const changed = store.db
        .prepare('UPDATE share_links SET expires_at = ? WHERE id = ?')
        .run(new Date(Date.now() - 1000).toISOString(), link.id);
      expect(changed.changes).toBe(1);
    } finally {
      store.close();
    }
    const expired = await fetch(link.url);
    expect(expired.status).toBe(404);
    const unknown = await fetch(
      `${BRIDGE_URL}${Routes.publicLink(randomBytes(18).toString('base64url'))}`
    );
    expect(await expired.text()).toBe(await unknown.text());
  });

  it('is refused on every non-public tier with the rule', async () => {
    for (const [tier, p, cls] of [
      ['scratch', 'x', 'scratch'],
      ['archive', 'x', 'archive'],
      ['project', 'ml101/x', 'project']
    ]) {
      const res = await send(alice, 'POST', Routes.tierLinks(tier), {
        path: p
      });
      expect(res.status).toBe(403);
      expect(ErrorBodySchema.parse(res.body).error.message).toBe(
        `Refused by the data-class rule 'share links only on public tiers': tier ${tier} has class ${cls}, not public`
      );
    }
  });
});

describe('the sensitive tier', () => {
  const path = `medical/patient-${RUN}.csv`;
  const TEXT = 'id,diagnosis\n1,flu\n';

  it('refuses a link and code access, and records every access', async () => {
    const up = await putStream(
      q(Routes.tierContent('sensitive'), { path }),
      alice,
      Readable.from([Buffer.from(TEXT)]),
      TEXT.length
    );
    expect(up.status).toBe(201);
    expect(
      (
        await bridge(
          q(Routes.tierFiles('sensitive'), { path: 'medical' }),
          alice
        )
      ).status
    ).toBe(200);
    const read = await fetch(
      `${BRIDGE_URL}${q(Routes.tierContent('sensitive'), { path })}`,
      {
        headers: { Authorization: `token ${alice}` }
      }
    );
    expect(await read.text()).toBe(TEXT);
    const link = await send(alice, 'POST', Routes.tierLinks('sensitive'), {
      path
    });
    expect(link.status).toBe(403);
    expect(ErrorBodySchema.parse(link.body).error.message).toBe(
      "Refused by the data-class rule 'share links only on public tiers': tier sensitive has class sensitive, not public"
    );
    const code = await send(alice, 'POST', Routes.tierCodeAccess('sensitive'), {
      path
    });
    expect(code.status).toBe(403);
    const direct = UploadSessionSchema.parse(
      (
        await send(alice, 'POST', Routes.tierUploads('sensitive'), {
          path: `${path}.2`,
          size: 10
        })
      ).body
    );
    expect(direct.mode).toBe('bridge');
    expect(
      (
        await send(
          alice,
          'DELETE',
          Routes.tierUpload('sensitive', direct.uploadId)
        )
      ).status
    ).toBe(204);
    const bobTry = await bridge(
      q(Routes.tierContent('sensitive'), { path }),
      bob
    );
    expect(bobTry.status).toBe(404);
    const renamed = `${path}.renamed`;
    expect(
      (
        await send(alice, 'POST', Routes.tierRename('sensitive'), {
          from: path,
          to: renamed
        })
      ).status
    ).toBe(200);
    expect(
      (
        await send(
          alice,
          'DELETE',
          q(Routes.tierFiles('sensitive'), { path: renamed })
        )
      ).status
    ).toBe(204);

    expect((await bridge(Routes.audit, alice)).status).toBe(403);
    const res = await bridge(
      q(Routes.audit, { action: 'storage.', q: `patient-${RUN}` }),
      admin
    );
    expect(res.status).toBe(200);
    const records = AuditListSchema.parse(res.body).records.reverse();
    expect(
      records.map(r => [r.user, r.action, r.target, r.details.outcome])
    ).toEqual([
      ['alice', 'storage.write', `sensitive:${path}`, 'ok'],
      ['alice', 'storage.read', `sensitive:${path}`, 'ok'],
      ['alice', 'storage.link', `sensitive:${path}`, 'refused'],
      ['alice', 'storage.code-access', `sensitive:${path}`, 'refused'],
      ['alice', 'storage.upload', `sensitive:${path}.2`, 'ok'],
      ['alice', 'storage.upload-abort', `sensitive:${path}.2`, 'ok'],
      ['bob', 'storage.read', `sensitive:${path}`, 'refused'],
      ['alice', 'storage.rename', `sensitive:${path}`, 'ok'],
      ['alice', 'storage.delete', `sensitive:${renamed}`, 'ok']
    ]);
    expect(records[0].details.size).toBe(TEXT.length);
    const list = await bridge(
      q(Routes.audit, {
        action: 'storage.list',
        q: 'sensitive:medical',
        user: 'alice'
      }),
      admin
    );
    expect(AuditListSchema.parse(list.body).records.length).toBeGreaterThan(0);
    const jsonl = await fetch(
      `${BRIDGE_URL}${q(Routes.audit, { format: 'jsonl', q: `patient-${RUN}` })}`,
      {
        headers: { Authorization: `token ${admin}` }
      }
    );
    expect(jsonl.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await jsonl.text()).trimEnd().split('\n');
    expect(lines).toHaveLength(records.length);
  });
});

describe('quota', () => {
  it('rejects a streamed upload over the quota before writing anything', async () => {
    const path = `too-big-${RUN}.bin`;
    // outreach has 2 GiB: declare 3 GiB, send a little; the answer comes before the body.
    const res = await putStream(
      q(Routes.tierContent('outreach'), { path }),
      alice,
      pseudoRandom(8 * MIB, 'q'),
      3 * GB
    ).catch((e: Error) => ({ status: -1, body: e.message }));
    expect(res.status).toBe(413);
    expect(ErrorBodySchema.parse(res.body).error).toMatchObject({
      code: 'quota_exceeded',
      message: expect.stringMatching(
        /^Writing 3\.0 GiB would exceed the 2\.0 GiB quota of outreach: .* used, .* left\. Nothing was written\.$/
      )
    });
    expect(
      (await bridge(q(Routes.tierStat('outreach'), { path }), alice)).status
    ).toBe(404);
  });

  it('rejects a multipart upload whose declared size exceeds the quota, starting nothing', async () => {
    const path = `too-big-mp-${RUN}.bin`;
    const res = await send(alice, 'POST', Routes.tierUploads('outreach'), {
      path,
      size: 3 * GB
    });
    expect(res.status).toBe(413);
    expect(ErrorBodySchema.parse(res.body).error.code).toBe('quota_exceeded');
    const s3 = bridgeS3();
    const uploads = await s3.send(
      new ListMultipartUploadsCommand({
        Bucket: 'hpc-public',
        Prefix: `alice/${path}`
      })
    );
    s3.destroy();
    expect(uploads.Uploads ?? []).toEqual([]);
  });
});

describe('side doors', () => {
  it('keeps 20 parallel streamed PUTs within the little quota left', async () => {
    // Open sessions reserve against the quota: leftovers of earlier runs go first.
    const open = OpenUploadListSchema.parse(
      (await bridge(Routes.tierUploads('outreach'), alice)).body
    );
    for (const u of open.uploads) {
      expect(
        (await send(alice, 'DELETE', Routes.tierUpload('outreach', u.uploadId)))
          .status
      ).toBe(204);
    }
    let usage: { bytes: number | null; quotaBytes: number | null } | undefined;
    // The first walk of a scope may take longer than the tier list waits for it.
    for (let i = 0; i < 10 && typeof usage?.bytes !== 'number'; i++) {
      usage = TierListSchema.parse(
        (await bridge(Routes.tiers, alice)).body
      ).tiers.find(t => t.name === 'outreach')?.usage[''];
    }
    expect(usage?.bytes).toEqual(expect.any(Number));
    const quota = usage?.quotaBytes ?? 0;
    const used = usage?.bytes ?? 0;
    // A session reserves all but 10 MiB without sending a byte.
    const filler = await send(alice, 'POST', Routes.tierUploads('outreach'), {
      path: `filler-${RUN}.bin`,
      size: quota - used - 10 * MIB
    });
    expect(filler.status).toBe(201);
    const session = UploadSessionSchema.parse(filler.body);
    const listed = OpenUploadListSchema.parse(
      (await bridge(Routes.tierUploads('outreach'), alice)).body
    );
    expect(listed.uploads.map(u => u.uploadId)).toContain(session.uploadId);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        putStream(
          q(Routes.tierContent('outreach'), {
            path: `burst-${RUN}/f${i}.bin`
          }),
          alice,
          pseudoRandom(MIB, `burst${i}`),
          MIB
        ).catch((e: Error) => ({ status: -1, body: e.message }))
      )
    );
    const statuses = results.map(r => r.status);
    expect(statuses.every(s => s === 201 || s === 413)).toBe(true);
    expect(statuses.filter(s => s === 201).length).toBeLessThanOrEqual(10);
    const stored = FileListSchema.parse(
      (
        await bridge(
          q(Routes.tierFiles('outreach'), { path: `burst-${RUN}` }),
          alice
        )
      ).body
    ).entries.reduce((n, e) => n + (e.size ?? 0), 0);
    expect(stored).toBeLessThanOrEqual(10 * MIB);
    expect(
      (
        await send(
          alice,
          'DELETE',
          Routes.tierUpload('outreach', session.uploadId)
        )
      ).status
    ).toBe(204);
  });

  it('has a presigned part URL refuse a body larger than declared', async () => {
    const res = await send(alice, 'POST', Routes.tierUploads('archive'), {
      path: `bounded-${RUN}.bin`,
      size: MIB
    });
    expect(res.status).toBe(201);
    const session = UploadSessionSchema.parse(res.body);
    expect(session.mode).toBe('direct');
    const [part] = session.parts;
    const larger = await fetch(part.url, {
      method: 'PUT',
      body: Buffer.alloc(2 * MIB)
    });
    expect(larger.status).toBe(403);
    const exact = await fetch(part.url, {
      method: 'PUT',
      body: Buffer.alloc(MIB)
    });
    expect(exact.status).toBe(200);
    const done = await send(
      alice,
      'POST',
      Routes.tierUploadComplete('archive', session.uploadId),
      { parts: [{ partNumber: 1, etag: exact.headers.get('etag') ?? '' }] }
    );
    expect(done.status).toBe(200);
    expect(FileEntrySchema.parse(done.body).size).toBe(MIB);
  });

  it.each(['archive', 'scratch'])(
    'lets one of 10 parallel overwrite=false PUTs create a new name on %s',
    async tier => {
      const path = `once-${RUN}.txt`;
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          putStream(
            q(Routes.tierContent(tier), { path, overwrite: 'false' }),
            alice,
            Readable.from([Buffer.from(`writer ${i}`)]),
            `writer ${i}`.length
          )
        )
      );
      const won = results.flatMap((r, i) => (r.status === 201 ? [i] : []));
      expect(won).toHaveLength(1);
      expect(results.filter(r => r.status === 409)).toHaveLength(9);
      const content = await bridge(
        q(Routes.tierContent(tier), { path }),
        alice
      );
      expect(content.body).toBe(`writer ${won[0]}`);
    }
  );

  it('answers 400 with a sentence for a name of 300 bytes', async () => {
    const res = await putStream(
      q(Routes.tierContent('scratch'), { path: 'n'.repeat(300) }),
      alice,
      Readable.from([Buffer.from('x')]),
      1
    );
    expect(res.status).toBe(400);
    expect(JSON.stringify(ErrorBodySchema.parse(res.body).error)).toMatch(
      /at most 255 bytes/
    );
  });

  it('stops serving a share link once its file was replaced', async () => {
    const path = `replaced-${RUN}.txt`;
    const put = (text: string) =>
      putStream(
        q(Routes.tierContent('outreach'), { path }),
        alice,
        Readable.from([Buffer.from(text)]),
        text.length
      );
    expect((await put('first version')).status).toBe(201);
    const created = await send(alice, 'POST', Routes.tierLinks('outreach'), {
      path,
      expiresInSeconds: 3600
    });
    expect(created.status).toBe(201);
    const link = ShareLinkSchema.parse(created.body);
    expect((await fetch(link.url)).status).toBe(200);
    expect((await put('the second, longer version')).status).toBe(201);
    const gone = await fetch(link.url);
    expect(gone.status).toBe(404);
    expect(ErrorBodySchema.parse(await gone.json()).error.message).toBe(
      'This link does not exist or has expired'
    );
    await send(alice, 'DELETE', Routes.link(link.id));
    await bridge(q(Routes.tierFiles('outreach'), { path }), alice, {
      method: 'DELETE'
    });
  });

  it("gives the panel's Download a presigned URL that S3 answers as an attachment under the file's name", async () => {
    const path = `reports/download ${RUN}.csv`;
    const body = 'a,b\n1,2\n';
    const put = await putStream(
      q(Routes.tierContent('archive'), { path }),
      alice,
      Readable.from([Buffer.from(body)]),
      body.length
    );
    expect(put.status).toBe(201);
    const access = await send(alice, 'POST', Routes.tierCodeAccess('archive'), {
      path,
      download: true,
      expiresInSeconds: 60
    });
    expect(access.status).toBe(200);
    const url = CodeAccessSchema.parse(access.body).url ?? '';
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:8080\//);
    const got = await fetch(url);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-disposition')).toBe(
      `attachment; filename="download ${RUN}.csv"; filename*=UTF-8''download%20${RUN}.csv`
    );
    expect(await got.text()).toBe(body);
    const scratch = await send(
      alice,
      'POST',
      Routes.tierCodeAccess('scratch'),
      {
        path: 'anything.csv',
        mode: 'write',
        download: true
      }
    );
    expect(CodeAccessSchema.parse(scratch.body).url).toBeNull();
    await send(alice, 'DELETE', q(Routes.tierFiles('archive'), { path }));
  });

  it('refuses write URLs for code on S3 tiers', async () => {
    const res = await send(alice, 'POST', Routes.tierCodeAccess('archive'), {
      path: `code-${RUN}.csv`,
      mode: 'write'
    });
    expect(res.status).toBe(400);
    expect(ErrorBodySchema.parse(res.body).error.message).toMatch(
      /read URLs only/
    );
  });
});
