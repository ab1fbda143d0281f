/**
 * The two StoragePort adapters against the real stack: S3 on Swift's s3api (a bucket of
 * the test's own, deleted at the end) and SFTP on the real sshd as alice.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client
} from '@aws-sdk/client-s3';
import { S3Store } from '../../src/adapters/s3/storage';
import { SshConnection } from '../../src/adapters/ssh/client';
import { sshUserCluster } from '../../src/adapters/ssh/jobs';
import { sftpStorage } from '../../src/adapters/ssh/storage';
import { Secret, type S3Config } from '../../src/config';
import {
  StorageError,
  type IStorageEntry,
  type IStoragePort
} from '../../src/ports/storage';
import { aliceConnection, STACK_DIR } from './stack';

jest.setTimeout(180_000);

const S3_URL = 'http://127.0.0.1:8080';
const MiB = 1024 * 1024;

function bridgeS3Config(): S3Config {
  const creds = JSON.parse(
    readFileSync(join(STACK_DIR, 's3', 'credentials.json'), 'utf8')
  ) as Record<string, { accessKeyId: string; secretAccessKey: string }>;
  return {
    name: 'demo',
    endpoint: S3_URL,
    publicEndpoint: S3_URL,
    region: 'us-east-1',
    accessKeyId: new Secret(creds.bridge.accessKeyId, 'value'),
    secretAccessKey: new Secret(creds.bridge.secretAccessKey, 'value')
  };
}

function rawClient(config: S3Config): S3Client {
  return new S3Client({
    endpoint: config.endpoint,
    region: config.region,
    forcePathStyle: true,
    credentials: {
      accessKeyId: config.accessKeyId.reveal(),
      secretAccessKey: config.secretAccessKey.reveal()
    },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED'
  });
}

const sha256 = (data: Buffer): string =>
  createHash('sha256').update(data).digest('hex');
const md5base64 = (data: Buffer): string =>
  createHash('md5').update(data).digest('base64');

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function listAll(
  port: IStoragePort,
  dir: string,
  limit: number
): Promise<{ entries: IStorageEntry[]; pages: number }> {
  const entries: IStorageEntry[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await port.list(dir, limit, cursor);
    pages += 1;
    entries.push(...page.entries);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return { entries, pages };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) {
    out.push(x);
  }
  return out;
}

/** A body that sends `sent` bytes of `data` and then fails like a dropped connection. */
function brokenBody(data: Buffer, sent: number): Readable {
  let done = false;
  return new Readable({
    read() {
      if (!done) {
        done = true;
        this.push(data.subarray(0, sent));
        setImmediate(() => this.destroy(new Error('client went away')));
      }
    }
  });
}

async function expectStorageError(
  run: () => Promise<unknown>,
  kind: StorageError['kind']
): Promise<StorageError> {
  try {
    await run();
  } catch (e) {
    expect(e).toBeInstanceOf(StorageError);
    expect((e as StorageError).kind).toBe(kind);
    return e as StorageError;
  }
  throw new Error(`expected a StorageError ${kind}`);
}

const ESCAPES = [
  '../x',
  'a/../../x',
  './x',
  '/etc/passwd',
  'a//b',
  'a\\..\\b',
  'a\0b',
  'a/b/',
  '..'
];

describe('S3 adapter (Swift s3api)', () => {
  const config = bridgeS3Config();
  const bucket = `h1-adapter-test-${randomBytes(4).toString('hex')}`;
  const raw = rawClient(config);
  let store: S3Store;
  let port: IStoragePort;
  /** Writes files over 6 MiB in parts (the default is one PUT up to 5 GiB). */
  let multipartPort: IStoragePort;

  beforeAll(async () => {
    await raw.send(new CreateBucketCommand({ Bucket: bucket }));
    store = new S3Store(config, {
      multipartCopyThreshold: 6 * MiB,
      copyPartSize: 5 * MiB
    });
    port = store.open(bucket, 'alice/');
    multipartPort = new S3Store(config, { singlePutMax: 6 * MiB }).open(
      bucket,
      'alice/'
    );
  });

  afterAll(async () => {
    const uploads = await raw.send(
      new ListMultipartUploadsCommand({ Bucket: bucket })
    );
    for (const u of uploads.Uploads ?? []) {
      await raw.send(
        new AbortMultipartUploadCommand({
          Bucket: bucket,
          Key: u.Key,
          UploadId: u.UploadId
        })
      );
    }
    let token: string | undefined;
    do {
      const out = await raw.send(
        new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token })
      );
      const keys = (out.Contents ?? []).map(o => o.Key);
      for (let i = 0; i < keys.length; i += 40) {
        await Promise.all(
          keys
            .slice(i, i + 40)
            .map(Key =>
              raw.send(new DeleteObjectCommand({ Bucket: bucket, Key }))
            )
        );
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token !== undefined);
    await raw.send(new DeleteBucketCommand({ Bucket: bucket }));
    store.close();
    raw.destroy();
  });

  async function allKeys(): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out = await raw.send(
        new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token })
      );
      keys.push(...(out.Contents ?? []).map(o => o.Key ?? ''));
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys;
  }

  it.each([
    ['one streamed PUT', () => port],
    ['parts', () => multipartPort]
  ])(
    'writes a stream in %s with the right SHA-256 and reads it back, whole and by range',
    async (_, portOf) => {
      const port = portOf();
      const data = randomBytes(20 * MiB + 123);
      const name =
        port === multipartPort ? 'data/big-parts.bin' : 'data/big.bin';
      let progress = 0;
      const result = await port.write(name, Readable.from([data]), {
        size: data.length,
        onProgress: b => (progress = b)
      });
      expect(result).toEqual({ size: data.length, sha256: sha256(data) });
      expect(progress).toBe(data.length);

      const whole = await port.read(name);
      expect(whole?.size).toBe(data.length);
      expect(sha256(await readAll(whole!.body))).toBe(sha256(data));

      const part = await port.read(name, { start: 1000, end: 1999 });
      expect(part?.size).toBe(data.length);
      expect(await readAll(part!.body)).toEqual(data.subarray(1000, 2000));

      expect(await port.read('data/missing.bin')).toBeNull();
      expect(await allKeys()).toContain(`alice/${name}`);
      if (port === multipartPort) {
        await port.delete(name); // the later tests know data/ as the PUT case leaves it
      }
    }
  );

  it('writes a small and an empty file in one request', async () => {
    const small = Buffer.from('a,b\n1,2\n');
    const r = await port.write('small.csv', Readable.from([small]), {
      size: small.length
    });
    expect(r.sha256).toBe(sha256(small));
    const empty = await port.write('empty.txt', Readable.from([]), { size: 0 });
    expect(empty).toEqual({ size: 0, sha256: sha256(Buffer.alloc(0)) });
    expect((await port.stat('empty.txt'))?.size).toBe(0);
  });

  it.each([
    ['one streamed PUT', () => port],
    ['parts', () => multipartPort]
  ])(
    'leaves nothing behind when a body in %s is short, broken, too long, corrupted or aborted',
    async (_, portOf) => {
      const port = portOf();
      const data = randomBytes(18 * MiB);
      await expectStorageError(
        () =>
          port.write(
            'fail/short.bin',
            Readable.from([data.subarray(0, 17 * MiB)]),
            {
              size: data.length
            }
          ),
        'invalid'
      );
      await expect(
        port.write('fail/broken.bin', brokenBody(data, 10 * MiB), {
          size: data.length
        })
      ).rejects.toThrow();
      await expectStorageError(
        () => port.write('fail/long.bin', Readable.from([data]), { size: 100 }),
        'invalid'
      );
      await expectStorageError(
        () =>
          port.write('fail/corrupt.bin', Readable.from([data]), {
            size: data.length,
            sha256: '0'.repeat(64)
          }),
        'invalid'
      );
      const controller = new AbortController();
      const aborted = port.write(
        'fail/aborted.bin',
        new Readable({ read() {} }),
        { size: data.length, signal: controller.signal }
      );
      controller.abort();
      await expectStorageError(() => aborted, 'invalid');

      expect(
        (await allKeys()).filter(k => k.startsWith('alice/fail/'))
      ).toEqual([]);
      const uploads = await raw.send(
        new ListMultipartUploadsCommand({ Bucket: bucket })
      );
      expect(uploads.Uploads ?? []).toEqual([]);
      expect(await port.stat('fail')).toBeNull();
    }
  );

  it('lists a folder of 2,500 files page by page, folders first, marker hidden', async () => {
    const keys = Array.from(
      { length: 2500 },
      (_, i) => `alice/many/f${String(i).padStart(5, '0')}.txt`
    );
    for (let i = 0; i < keys.length; i += 40) {
      await Promise.all(
        keys
          .slice(i, i + 40)
          .map(Key =>
            raw.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' }))
          )
      );
    }
    await port.mkdir('many/sub');
    await port.mkdir('many');

    const { entries, pages } = await listAll(port, 'many', 1000);
    expect(pages).toBe(3);
    expect(entries).toHaveLength(2501);
    expect(
      entries.filter(e => e.type === 'directory').map(e => e.path)
    ).toEqual(['many/sub']);
    expect(new Set(entries.map(e => e.path)).size).toBe(2501);
    expect(entries.find(e => e.name === 'f00042.txt')).toMatchObject({
      path: 'many/f00042.txt',
      type: 'file',
      size: 1
    });

    const root = await listAll(port, '', 1000);
    expect(root.entries.map(e => `${e.type}:${e.path}`)).toEqual(
      expect.arrayContaining([
        'directory:data',
        'directory:many',
        'file:small.csv'
      ])
    );
    expect((await port.list('many/sub', 10)).entries).toEqual([]);
    await expectStorageError(() => port.list('nowhere', 10), 'not_found');
  });

  it('stats files, folders (with or without a marker) and the root', async () => {
    expect(await port.stat('small.csv')).toMatchObject({
      name: 'small.csv',
      type: 'file',
      size: 8
    });
    expect(await port.stat('data')).toMatchObject({
      path: 'data',
      type: 'directory'
    });
    expect(await port.stat('many/sub')).toMatchObject({ type: 'directory' });
    expect(await port.stat('')).toMatchObject({ type: 'directory' });
    expect(await port.stat('nothing/here')).toBeNull();
    await expectStorageError(() => port.mkdir('small.csv'), 'exists');
  });

  it('copies within the bucket (a large object part by part), renames and deletes folders', async () => {
    const big = await port.stat('data/big.bin');
    await port.write('data/notes.txt', Readable.from([Buffer.from('hi')]), {
      size: 2
    });
    await port.copyWithin!('data', 'copy');
    const copied = await collect(port.walk('copy'));
    expect(copied.map(e => e.path).sort()).toEqual([
      'copy/big.bin',
      'copy/notes.txt'
    ]);
    const copiedBig = await port.read('copy/big.bin');
    const original = await port.read('data/big.bin');
    expect(sha256(await readAll(copiedBig!.body))).toBe(
      sha256(await readAll(original!.body))
    );
    expect(copiedBig?.size).toBe(big?.size);

    await port.rename('copy', 'moved/here');
    expect(await port.stat('copy')).toBeNull();
    expect((await collect(port.walk('moved'))).map(e => e.path).sort()).toEqual(
      ['moved/here/big.bin', 'moved/here/notes.txt']
    );
    await port.rename('small.csv', 'moved/small.csv');
    expect(await port.stat('small.csv')).toBeNull();
    await expectStorageError(() => port.rename('data', 'moved'), 'exists');
    await expectStorageError(
      () => port.rename('data', 'data/inner'),
      'invalid'
    );
    await expectStorageError(
      () => port.rename('gone', 'elsewhere'),
      'not_found'
    );

    await port.delete('many');
    expect((await allKeys()).filter(k => k.startsWith('alice/many'))).toEqual(
      []
    );
    await port.delete('moved/small.csv');
    expect(await port.stat('moved/small.csv')).toBeNull();
    await expectStorageError(() => port.delete('many'), 'not_found');
  });

  it('sums the bytes under its root only', async () => {
    await raw.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'bob/other.bin',
        Body: randomBytes(5000)
      })
    );
    await raw.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'alice-not-mine.bin',
        Body: 'xyz'
      })
    );
    const expected = (await collect(port.walk(''))).reduce(
      (n, e) => n + (e.size ?? 0),
      0
    );
    expect(expected).toBeGreaterThan(40 * MiB);
    expect(await port.usage()).toBe(expected);
    const bobs = store.open(bucket, 'bob');
    expect(await bobs.usage()).toBe(5000);
    expect((await bobs.list('', 10)).entries.map(e => e.path)).toEqual([
      'other.bin'
    ]);
  });

  it('refuses paths that leave the root', async () => {
    for (const p of ESCAPES) {
      await expectStorageError(() => port.stat(p), 'invalid');
      await expectStorageError(() => port.read(p), 'invalid');
      await expectStorageError(
        () => port.write(p, Readable.from([Buffer.from('x')]), { size: 1 }),
        'invalid'
      );
      await expectStorageError(() => port.list(p, 10), 'invalid');
      await expectStorageError(() => port.delete(p), 'invalid');
      await expectStorageError(() => port.rename('data', p), 'invalid');
      await expectStorageError(() => port.direct!.presignGet(p, 60), 'invalid');
    }
    expect(() => store.open(bucket, '../bob/')).toThrow(StorageError);
  });

  it('uploads directly with presigned part URLs and Content-MD5, then a presigned GET works anonymously', async () => {
    const direct = port.direct!;
    const parts = [
      randomBytes(5 * MiB),
      randomBytes(5 * MiB),
      randomBytes(1234)
    ];
    const whole = Buffer.concat(parts);
    const uploadId = await direct.createMultipart('direct/upload.bin');
    expect(await port.stat('direct/upload.bin')).toBeNull();

    const etags: { partNumber: number; etag: string }[] = [];
    for (const [i, part] of parts.entries()) {
      const url = await direct.presignPart(
        'direct/upload.bin',
        uploadId,
        i + 1,
        part.length,
        600
      );
      expect(
        url.startsWith(`${S3_URL}/${bucket}/alice/direct/upload.bin?`)
      ).toBe(true);
      expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toBe(
        'content-length;host'
      );
      // More bytes than the URL was signed for: S3 refuses the signature.
      const longer = await fetch(url, {
        method: 'PUT',
        body: Buffer.concat([part, Buffer.alloc(1024)])
      });
      expect(longer.status).toBe(403);
      const res = await fetch(url, {
        method: 'PUT',
        body: part,
        headers: { 'Content-MD5': md5base64(part) }
      });
      expect(res.status).toBe(200);
      etags.push({ partNumber: i + 1, etag: res.headers.get('etag') ?? '' });
    }
    // A part whose bytes do not match its Content-MD5 is refused by S3.
    const badUrl = await direct.presignPart(
      'direct/upload.bin',
      uploadId,
      4,
      parts[2].length,
      600
    );
    const bad = await fetch(badUrl, {
      method: 'PUT',
      body: parts[2],
      headers: { 'Content-MD5': md5base64(parts[1]) }
    });
    expect(bad.status).toBe(400);

    const listed = await direct.listParts('direct/upload.bin', uploadId);
    expect(listed.map(p => [p.partNumber, p.size, p.etag])).toEqual(
      etags.map((e, i) => [e.partNumber, parts[i].length, e.etag])
    );
    expect(await port.stat('direct/upload.bin')).toBeNull();
    await direct.completeMultipart('direct/upload.bin', uploadId, etags);

    const get = await direct.presignGet('direct/upload.bin', 300, {
      downloadName: 'résultat "final".bin'
    });
    const res = await fetch(get);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain('attachment');
    // Set at CreateMultipartUpload (Swift would store application/xml).
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(whole));

    const tampered = new URL(get);
    tampered.pathname = tampered.pathname.replace('upload.bin', 'upload.bim');
    expect((await fetch(tampered)).status).toBe(403);
    const longer = new URL(get);
    longer.searchParams.set('X-Amz-Expires', '3600');
    expect((await fetch(longer)).status).toBe(403);
  });

  it('uploads parts through the bridge, aborts a session and presigns a PUT', async () => {
    const direct = port.direct!;
    const a = randomBytes(5 * MiB);
    const b = randomBytes(100);
    const uploadId = await direct.createMultipart('via-bridge.bin');
    const p1 = await direct.uploadPart(
      'via-bridge.bin',
      uploadId,
      1,
      Readable.from([a]),
      a.length
    );
    await expectStorageError(
      () =>
        direct.uploadPart(
          'via-bridge.bin',
          uploadId,
          2,
          Readable.from([b]),
          200
        ),
      'invalid'
    );
    const p2 = await direct.uploadPart(
      'via-bridge.bin',
      uploadId,
      2,
      Readable.from([b]),
      b.length
    );
    await direct.completeMultipart('via-bridge.bin', uploadId, [p2, p1]);
    const read = await port.read('via-bridge.bin');
    expect(sha256(await readAll(read!.body))).toBe(
      sha256(Buffer.concat([a, b]))
    );

    const dropped = await direct.createMultipart('dropped.bin');
    await direct.uploadPart(
      'dropped.bin',
      dropped,
      1,
      Readable.from([b]),
      b.length
    );
    await direct.abortMultipart('dropped.bin', dropped);
    await expectStorageError(
      () => direct.listParts('dropped.bin', dropped),
      'not_found'
    );
    expect(await port.stat('dropped.bin')).toBeNull();
  });

  it('says unavailable for a bucket that does not exist', async () => {
    const missing = store.open(`${bucket}-missing`, '');
    await expectStorageError(() => missing.list('', 10), 'unavailable');
  });
});

describe('SFTP adapter (sshd as alice)', () => {
  const name = `h1-storage-test-${randomBytes(4).toString('hex')}`;
  const root = `/home/alice/${name}`;
  let conn: SshConnection;
  let home: IStoragePort;
  let port: IStoragePort;

  beforeAll(async () => {
    conn = aliceConnection();
    home = sftpStorage(conn, '/home/alice');
    await home.mkdir(name);
    port = sshUserCluster(conn).storage(root);
  });

  afterAll(async () => {
    await home.delete(name);
    conn.close();
  });

  const names = async (dir: string): Promise<string[]> =>
    (await listAll(port, dir, 1000)).entries.map(e => e.name).sort();

  it('says which folder is missing when the root does not exist', async () => {
    const missing = sftpStorage(conn, `${root}-missing`);
    const err = await expectStorageError(
      () => missing.list('', 10),
      'not_found'
    );
    expect(err.message).toBe(
      `the folder ${root}-missing does not exist on the cluster`
    );
  });

  it('writes atomically with the right SHA-256 and reads it back, whole and by range', async () => {
    const data = randomBytes(3 * MiB + 17);
    let progress = 0;
    const result = await port.write('data/run1.bin', Readable.from([data]), {
      size: data.length,
      onProgress: b => (progress = b)
    });
    expect(result).toEqual({ size: data.length, sha256: sha256(data) });
    expect(progress).toBe(data.length);
    expect(sha256(readFileSync(`${root}/data/run1.bin`))).toBe(sha256(data));

    const whole = await port.read('data/run1.bin');
    expect(whole?.size).toBe(data.length);
    expect(sha256(await readAll(whole!.body))).toBe(sha256(data));
    const part = await port.read('data/run1.bin', { start: 5, end: 300_004 });
    expect(sha256(await readAll(part!.body))).toBe(
      sha256(data.subarray(5, 300_005))
    );
    expect(await port.read('data/none.bin')).toBeNull();

    // Overwriting replaces the file in one step.
    const next = Buffer.from('second version');
    await port.write('data/run1.bin', Readable.from([next]), {
      size: next.length
    });
    expect(readFileSync(`${root}/data/run1.bin`, 'utf8')).toBe(
      'second version'
    );
    const empty = await port.write('data/empty', Readable.from([]), {
      size: 0
    });
    expect(empty.sha256).toBe(sha256(Buffer.alloc(0)));
  });

  it('serves more downloads at once than the connection has channels', async () => {
    // Each open download holds an SFTP channel until its stream closes.
    const bodies = await Promise.all(
      Array.from({ length: 12 }, async () =>
        readAll((await port.read('data/run1.bin'))!.body)
      )
    );
    expect(new Set(bodies.map(b => b.toString()))).toEqual(
      new Set(['second version'])
    );
  });

  it('leaves nothing behind when the body is short, broken, too long, corrupted or aborted', async () => {
    const data = randomBytes(2 * MiB);
    await port.write('keep.txt', Readable.from([Buffer.from('old')]), {
      size: 3
    });
    await expectStorageError(
      () =>
        port.write('keep.txt', Readable.from([data.subarray(0, MiB)]), {
          size: data.length
        }),
      'invalid'
    );
    await expect(
      port.write('broken.bin', brokenBody(data, MiB), { size: data.length })
    ).rejects.toThrow();
    await expectStorageError(
      () => port.write('long.bin', Readable.from([data]), { size: 10 }),
      'invalid'
    );
    await expectStorageError(
      () =>
        port.write('keep.txt', Readable.from([data]), {
          size: data.length,
          sha256: 'f'.repeat(64)
        }),
      'invalid'
    );
    const controller = new AbortController();
    const aborted = port.write('aborted.bin', new Readable({ read() {} }), {
      size: 10,
      signal: controller.signal
    });
    setImmediate(() => controller.abort());
    await expectStorageError(() => aborted, 'invalid');

    expect(readFileSync(`${root}/keep.txt`, 'utf8')).toBe('old');
    // On disk, not through list(): listings hide upload temp files.
    expect(readdirSync(root).sort()).toEqual(['data', 'keep.txt']);
  });

  it('lists 2,500 files page by page, folders first', async () => {
    await port.mkdir('many/zdir/deeper');
    await port.mkdir('many/adir');
    const files = Array.from(
      { length: 2500 },
      (_, i) => `${root}/many/f${String(i).padStart(5, '0')}.txt`
    );
    for (let i = 0; i < files.length; i += 500) {
      const r = await conn.exec(['touch', '--', ...files.slice(i, i + 500)]);
      expect(r.code).toBe(0);
    }
    const { entries, pages } = await listAll(port, 'many', 1000);
    expect(pages).toBe(3);
    expect(entries).toHaveLength(2502);
    expect(entries.slice(0, 3).map(e => `${e.type}:${e.path}`)).toEqual([
      'directory:many/adir',
      'directory:many/zdir',
      'file:many/f00000.txt'
    ]);
    expect(new Set(entries.map(e => e.path)).size).toBe(2502);
    const small = await listAll(port, 'many', 250);
    expect(small.entries).toEqual(entries);
    await expectStorageError(() => port.list('nowhere', 10), 'not_found');
    await expectStorageError(() => port.list('keep.txt', 10), 'not_found');
    await expectStorageError(() => port.list('many', 10, 'garbage'), 'invalid');
  });

  it('stats, makes folders, renames and copies folders, deletes folders', async () => {
    expect(await port.stat('keep.txt')).toMatchObject({
      name: 'keep.txt',
      type: 'file',
      size: 3
    });
    expect(await port.stat('many/zdir')).toMatchObject({
      type: 'directory',
      size: null
    });
    expect(await port.stat('')).toMatchObject({ type: 'directory' });
    expect(await port.stat('no/such')).toBeNull();
    await port.mkdir('many/zdir');
    await expectStorageError(() => port.mkdir('keep.txt/sub'), 'exists');

    await port.copyWithin!('data', 'copied/data');
    expect(
      (await collect(port.walk('copied'))).map(e => e.path).sort()
    ).toEqual(['copied/data/empty', 'copied/data/run1.bin']);
    await port.rename('copied', 'renamed');
    expect(await port.stat('copied')).toBeNull();
    expect(readFileSync(`${root}/renamed/data/run1.bin`, 'utf8')).toBe(
      'second version'
    );
    await expectStorageError(() => port.rename('data', 'renamed'), 'exists');
    await expectStorageError(
      () => port.rename('keep.txt', 'renamed/data/run1.bin'),
      'exists'
    );
    await expectStorageError(() => port.rename('data', 'data/in'), 'invalid');
    await expectStorageError(() => port.rename('nope', 'x'), 'not_found');

    await port.delete('many');
    expect(await port.stat('many')).toBeNull();
    await port.delete('renamed/data/empty');
    expect(await names('renamed/data')).toEqual(['run1.bin']);
    await expectStorageError(() => port.delete('many'), 'not_found');
  });

  it('measures usage with du as the user', async () => {
    const before = await port.usage();
    const files = await collect(port.walk(''));
    expect(before).toBeGreaterThanOrEqual(
      files.reduce((n, e) => n + (e.size ?? 0), 0)
    );
    const data = randomBytes(MiB);
    await port.write('data/more.bin', Readable.from([data]), { size: MiB });
    expect((await port.usage()) - before).toBe(MiB);
  });

  it('does not follow links out of the root, nor accept escaping paths', async () => {
    await conn.withSftp(
      sftp =>
        new Promise<void>((resolve, reject) =>
          sftp.symlink('/etc', `${root}/etc-link`, err =>
            err ? reject(err) : resolve()
          )
        )
    );
    await conn.withSftp(
      sftp =>
        new Promise<void>((resolve, reject) =>
          sftp.symlink(`${root}/keep.txt`, `${root}/inner-link`, err =>
            err ? reject(err) : resolve()
          )
        )
    );
    expect(await names('')).not.toContain('etc-link');
    await expectStorageError(() => port.stat('etc-link'), 'denied');
    await expectStorageError(() => port.read('etc-link/passwd'), 'denied');
    await expectStorageError(() => port.list('etc-link', 10), 'denied');
    await expectStorageError(
      () =>
        port.write('etc-link/x', Readable.from([Buffer.from('x')]), {
          size: 1
        }),
      'denied'
    );
    await expectStorageError(() => port.delete('etc-link/passwd'), 'denied');
    expect(await port.stat('inner-link')).toMatchObject({
      type: 'file',
      size: 3
    });

    for (const p of ESCAPES) {
      await expectStorageError(() => port.stat(p), 'invalid');
      await expectStorageError(() => port.read(p), 'invalid');
      await expectStorageError(
        () => port.write(p, Readable.from([Buffer.from('x')]), { size: 1 }),
        'invalid'
      );
      await expectStorageError(() => port.list(p, 10), 'invalid');
      await expectStorageError(() => port.delete(p), 'invalid');
      await expectStorageError(() => port.rename('keep.txt', p), 'invalid');
    }
    // Deleting a link removes the link, not what it points to.
    await port.delete('etc-link');
    expect(readFileSync('/etc/passwd', 'utf8')).toContain('root:');
  });
});
