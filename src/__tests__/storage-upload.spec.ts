/**
 * @jest-environment node
 */
import { createHash } from 'crypto';
import { Upload } from '../storage/upload';
import { FakeStorageApi, tier } from './storage-fakes';

const MiB = 1024 * 1024;

function bytes(size: number): Uint8Array<ArrayBuffer> {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    data[i] = (i * 31 + 7) % 251;
  }
  return data;
}

interface ISent extends Upload.IRequest {
  bytes: Buffer;
}

/** A transport that answers each request with `answer(request)`. */
function transport(
  answer: (request: ISent, index: number) => Partial<Upload.IResponse>
): { send: Upload.Transport; sent: ISent[] } {
  const sent: ISent[] = [];
  const send: Upload.Transport = async request => {
    const body =
      request.body instanceof Blob
        ? Buffer.from(await request.body.arrayBuffer())
        : Buffer.from(request.body);
    const recorded = { ...request, bytes: body };
    sent.push(recorded);
    request.onProgress?.(body.length);
    const response = answer(recorded, sent.length - 1);
    return {
      status: response.status ?? 200,
      header: response.header ?? (() => null),
      text: response.text ?? ''
    };
  };
  return { send, sent };
}

const s3 = tier({
  name: 'archive',
  adapter: 's3',
  class: 'archive',
  directUpload: true
});

function session(partSize: number, size: number) {
  const partCount = Math.max(1, Math.ceil(size / partSize));
  return {
    uploadId: 'u1',
    mode: 'direct' as const,
    partSize,
    partCount,
    parts: Array.from({ length: partCount }, (_, i) => ({
      partNumber: i + 1,
      url: `http://s3.example/part/${i + 1}`
    })),
    expiresAt: '2026-11-25T11:00:00.000Z'
  };
}

describe('Upload', () => {
  it('plans direct uploads only for S3 tiers that allow them', () => {
    expect(Upload.plan(s3, 10)).toBe('direct');
    expect(Upload.plan(s3, 0)).toBe('stream');
    expect(Upload.plan(tier({ directUpload: false }), 10)).toBe('stream');
    expect(Upload.plan(tier({ adapter: 'sftp', directUpload: true }), 10)).toBe(
      'stream'
    );
  });

  it('cuts parts of partSize bytes, the last one shorter', () => {
    expect(Upload.partRanges(40 * MiB, 16 * MiB, 3)).toEqual([
      { partNumber: 1, start: 0, end: 16 * MiB },
      { partNumber: 2, start: 16 * MiB, end: 32 * MiB },
      { partNumber: 3, start: 32 * MiB, end: 40 * MiB }
    ]);
    expect(Upload.partRanges(5, 16 * MiB, 1)).toEqual([
      { partNumber: 1, start: 0, end: 5 }
    ]);
  });

  it('sends each part straight to S3 with its Content-MD5 and completes with the ETags in order', async () => {
    const api = new FakeStorageApi();
    const data = bytes(10_000);
    api.sessions = [session(4096, data.length)];
    const { send, sent } = transport(request => ({
      status: 200,
      header: name =>
        name === 'ETag' ? `"etag-${request.url.split('/').pop()}"` : null
    }));
    const progress: Upload.IProgress[] = [];
    const entry = await Upload.upload({
      api,
      tier: s3,
      path: 'big.bin',
      file: new Blob([data]),
      transport: send,
      parallel: 2,
      onProgress: p => progress.push(p)
    });
    expect(entry.path).toBe('big.bin');
    expect(sent).toHaveLength(3);
    for (const request of sent) {
      expect(request.url).toMatch(/^http:\/\/s3\.example\/part\/\d$/);
      expect(request.headers['Authorization']).toBeUndefined();
      expect(request.headers['Content-MD5']).toBe(
        createHash('md5').update(request.bytes).digest('base64')
      );
    }
    expect(
      Buffer.concat(
        [...sent]
          .sort((a, b) => a.url.localeCompare(b.url))
          .map(request => request.bytes)
      )
    ).toEqual(Buffer.from(data));
    expect(api.completed).toEqual([
      {
        uploadId: 'u1',
        request: {
          parts: [
            { partNumber: 1, etag: '"etag-1"' },
            { partNumber: 2, etag: '"etag-2"' },
            { partNumber: 3, etag: '"etag-3"' }
          ]
        }
      }
    ]);
    const uploaded = progress.filter(p => p.phase === 'upload');
    expect(uploaded[uploaded.length - 1].loaded).toBe(data.length);
    expect(progress.every(p => p.mode === 'direct')).toBe(true);
    expect(api.calls).not.toContain('abortUpload archive u1');
  });

  it('aborts the session and streams through the bridge when S3 cannot be reached (CORS)', async () => {
    const api = new FakeStorageApi();
    const data = bytes(9000);
    api.sessions = [session(4096, data.length)];
    const { send, sent } = transport(request =>
      request.url.startsWith('http://s3.example')
        ? { status: 0 }
        : {
            status: 201,
            text: JSON.stringify({
              entry: {
                name: 'big.bin',
                path: 'big.bin',
                type: 'file',
                size: data.length,
                lastModified: null,
                writable: true
              },
              sha256: createHash('sha256').update(data).digest('hex')
            })
          }
    );
    const entry = await Upload.upload({
      api,
      tier: s3,
      path: 'big.bin',
      file: new Blob([data]),
      transport: send,
      parallel: 1
    });
    expect(entry.size).toBe(data.length);
    expect(api.calls).toContain('abortUpload archive u1');
    const streamed = sent[sent.length - 1];
    expect(streamed.url).toBe(
      'http://bridge/api/v1/tiers/archive/content?path=big.bin&overwrite=true'
    );
    expect(streamed.headers['Authorization']).toBe('token secret');
    expect(streamed.headers['x-checksum-sha256']).toBe(
      createHash('sha256').update(data).digest('hex')
    );
    expect(streamed.bytes).toEqual(Buffer.from(data));
    expect(api.completed).toHaveLength(0);
  });

  it('aborts the session and fails without a fallback when S3 refuses a part', async () => {
    const api = new FakeStorageApi();
    api.sessions = [session(4096, 5000)];
    const { send, sent } = transport(() => ({
      status: 403,
      text: '<Error><Message>Request has expired</Message></Error>'
    }));
    await expect(
      Upload.upload({
        api,
        tier: s3,
        path: 'big.bin',
        file: new Blob([bytes(5000)]),
        transport: send,
        parallel: 1
      })
    ).rejects.toThrow(/HTTP 403.*Request has expired/);
    expect(api.calls).toContain('abortUpload archive u1');
    expect(sent.every(request => request.url.startsWith('http://s3'))).toBe(
      true
    );
  });

  it('hashes a streamed file slice by slice and reports the checksum phase', async () => {
    const data = bytes(Upload.HASH_SLICE + 1000);
    const seen: number[] = [];
    const hex = await Upload.sha256Hex(new Blob([data]), loaded =>
      seen.push(loaded)
    );
    expect(hex).toBe(createHash('sha256').update(data).digest('hex'));
    expect(seen).toEqual([Upload.HASH_SLICE, data.length]);
  });

  it('skips the checksum above the limit and turns bridge errors into errors', async () => {
    const api = new FakeStorageApi();
    const { send, sent } = transport(() => ({
      status: 413,
      text: '{"error":{"code":"quota_exceeded","message":"full"}}'
    }));
    await expect(
      Upload.upload({
        api,
        tier: tier(),
        path: 'x.bin',
        file: new Blob([bytes(100)]),
        transport: send,
        checksumLimit: 10
      })
    ).rejects.toThrow(/HTTP 413/);
    expect(sent[0].headers['x-checksum-sha256']).toBeUndefined();
  });
});
