/**
 * The S3 storage adapter: one bucket + prefix per port. Folders are key prefixes (with an
 * optional zero-byte `folder/` marker from mkdir), uploads stream through lib-storage's
 * multipart upload (aborted on failure, so nothing half-written becomes visible), and
 * presigned URLs are signed for the endpoint browsers reach.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
  type ListObjectsV2CommandOutput,
  type _Object
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3Config } from '../../config';
import {
  StorageError,
  type IByteRange,
  type IDirectAccess,
  type IMultipartPart,
  type IStorageEntry,
  type IStoragePage,
  type IStoragePort,
  type IStorageRead,
  type IWriteOptions,
  type IWriteResult
} from '../../ports/storage';
import { ByteCounter, shortBody } from '../byte-counter';
import { baseName, checkRelativePath, isSameOrInside } from '../storage-paths';
import { toStorageError } from './errors';

export interface IS3StoreOptions {
  /** Part size of streamed uploads (bytes buffered per part); default 8 MiB. */
  partSize?: number;
  /** Parts uploaded at once; at most `partSize * queueSize` bytes are buffered. */
  queueSize?: number;
  /**
   * Objects larger than this are copied part by part (UploadPartCopy): CopyObject
   * stops at 5 GiB. Default 5 GiB; tests lower it.
   */
  multipartCopyThreshold?: number;
  /** Part size of such copies; default 512 MiB. */
  copyPartSize?: number;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** DeleteObjects takes at most 1000 keys. */
const DELETE_BATCH = 1000;
/** Objects copied at once when a folder is renamed or copied. */
const COPY_CONCURRENCY = 8;

/** One S3 endpoint (a `s3[]` entry of the config); `open` gives a port on bucket + prefix. */
export class S3Store {
  private readonly client: S3Client;
  /** Signs URLs for `publicEndpoint` (browsers), else the same as `client`. */
  private readonly presigner: S3Client;
  private readonly options: Required<IS3StoreOptions>;

  constructor(
    readonly config: S3Config,
    options: IS3StoreOptions = {}
  ) {
    this.client = makeClient(config, config.endpoint);
    this.presigner =
      config.publicEndpoint === undefined ||
      config.publicEndpoint === config.endpoint
        ? this.client
        : makeClient(config, config.publicEndpoint);
    this.options = {
      partSize: options.partSize ?? 8 * MiB,
      queueSize: options.queueSize ?? 3,
      multipartCopyThreshold: options.multipartCopyThreshold ?? 5 * GiB,
      copyPartSize: options.copyPartSize ?? 512 * MiB
    };
  }

  /** A port on `s3://bucket/prefix` (`prefix` is `''` or ends with `/`; one is added). */
  open(bucket: string, prefix: string): IStoragePort {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new StorageError('invalid', `"${bucket}" is not an S3 bucket name`);
    }
    const root = prefix.replace(/\/+$/, '');
    checkRelativePath(root);
    return new S3Storage(
      this.client,
      this.presigner,
      bucket,
      root === '' ? '' : `${root}/`,
      this.options
    );
  }

  /** The multipart uploads open under `prefix` in `bucket`, every page. */
  async openMultipartUploads(
    bucket: string,
    prefix: string,
    signal: AbortSignal
  ): Promise<{ key: string; uploadId: string }[]> {
    const found: { key: string; uploadId: string }[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker
        }),
        { abortSignal: signal }
      );
      for (const u of page.Uploads ?? []) {
        if (u.Key !== undefined && u.UploadId !== undefined) {
          found.push({ key: u.Key, uploadId: u.UploadId });
        }
      }
      if (page.IsTruncated !== true) {
        return found;
      }
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  async abortMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
    signal: AbortSignal
  ): Promise<void> {
    await this.client.send(
      new AbortMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId
      }),
      { abortSignal: signal }
    );
  }

  close(): void {
    this.client.destroy();
    if (this.presigner !== this.client) {
      this.presigner.destroy();
    }
  }
}

function makeClient(config: S3Config, endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: config.region,
    forcePathStyle: true,
    credentials: {
      accessKeyId: config.accessKeyId.reveal(),
      secretAccessKey: config.secretAccessKey.reveal()
    },
    // Swift's s3api knows Content-MD5, not the SDK's default CRC32 trailers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED'
  });
}

class S3Storage implements IStoragePort {
  readonly direct: IDirectAccess;

  constructor(
    private readonly client: S3Client,
    private readonly presigner: S3Client,
    private readonly bucket: string,
    /** `''` or `some/prefix/`. */
    private readonly prefix: string,
    private readonly options: Required<IS3StoreOptions>
  ) {
    this.direct = new S3DirectAccess(this);
  }

  // ---- keys ----

  /** The key of a file at `path` (never the root). */
  fileKey(path: string): string {
    return this.prefix + checkRelativePath(path, false);
  }

  /** The key prefix of everything inside the folder `path` (`''` = the root). */
  private folderPrefix(path: string): string {
    checkRelativePath(path);
    return path === '' ? this.prefix : `${this.prefix}${path}/`;
  }

  private pathOf(key: string): string {
    return key.slice(this.prefix.length);
  }

  private describe(path: string): string {
    return `${path} in s3://${this.bucket}/${this.prefix}`;
  }

  async send<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      throw toStorageError(e, what, this.bucket);
    }
  }

  get s3(): S3Client {
    return this.client;
  }

  get signer(): S3Client {
    return this.presigner;
  }

  get bucketName(): string {
    return this.bucket;
  }

  // ---- IStoragePort ----

  async list(
    dir: string,
    limit: number,
    cursor?: string
  ): Promise<IStoragePage> {
    const prefix = this.folderPrefix(dir);
    const out = await this.send(this.describe(dir), () =>
      this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          Delimiter: '/',
          MaxKeys: Math.max(1, Math.min(limit, 1000)),
          ContinuationToken: cursor
        })
      )
    );
    const folders: IStorageEntry[] = (out.CommonPrefixes ?? []).flatMap(p =>
      p.Prefix === undefined ? [] : [this.folderEntry(p.Prefix.slice(0, -1))]
    );
    const files = (out.Contents ?? [])
      .filter(o => o.Key !== undefined && o.Key !== prefix)
      .map(o => this.fileEntry(o));
    const hasMarker = (out.Contents ?? []).some(o => o.Key === prefix);
    if (
      dir !== '' &&
      cursor === undefined &&
      folders.length === 0 &&
      files.length === 0 &&
      !hasMarker
    ) {
      throw new StorageError('not_found', `There is no folder ${dir}`);
    }
    return {
      entries: [...folders, ...files],
      nextCursor: out.IsTruncated ? (out.NextContinuationToken ?? null) : null
    };
  }

  private folderEntry(keyWithoutSlash: string): IStorageEntry {
    const path = this.pathOf(keyWithoutSlash);
    return {
      name: baseName(path),
      path,
      type: 'directory',
      size: null,
      lastModified: null
    };
  }

  private fileEntry(o: _Object): IStorageEntry {
    const path = this.pathOf(o.Key ?? '');
    return {
      name: baseName(path),
      path,
      type: 'file',
      size: o.Size ?? 0,
      lastModified: o.LastModified ?? null
    };
  }

  async stat(path: string): Promise<IStorageEntry | null> {
    if (checkRelativePath(path) === '') {
      return {
        name: '',
        path: '',
        type: 'directory',
        size: null,
        lastModified: null
      };
    }
    const head = await this.head(path);
    if (head !== null) {
      return head;
    }
    return (await this.isFolder(path))
      ? this.folderEntry(this.prefix + path)
      : null;
  }

  private async head(path: string): Promise<IStorageEntry | null> {
    const key = this.fileKey(path);
    try {
      const out = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: key })
      );
      return this.fileEntry({
        Key: key,
        Size: out.ContentLength,
        LastModified: out.LastModified
      });
    } catch (e) {
      const err = toStorageError(e, this.describe(path), this.bucket);
      if (err.kind === 'not_found') {
        return null;
      }
      throw err;
    }
  }

  private async isFolder(path: string): Promise<boolean> {
    const out = await this.send(this.describe(path), () =>
      this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.folderPrefix(path),
          MaxKeys: 1
        })
      )
    );
    return (out.KeyCount ?? out.Contents?.length ?? 0) > 0;
  }

  async read(path: string, range?: IByteRange): Promise<IStorageRead | null> {
    const key = this.fileKey(path);
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range:
            range === undefined
              ? undefined
              : `bytes=${range.start}-${range.end}`
        })
      );
      const total = /\/(\d+)$/.exec(out.ContentRange ?? '')?.[1];
      return {
        body: out.Body as Readable,
        size: total === undefined ? (out.ContentLength ?? 0) : Number(total),
        lastModified: out.LastModified ?? null
      };
    } catch (e) {
      const err = toStorageError(e, this.describe(path), this.bucket);
      if (err.kind === 'not_found') {
        return null;
      }
      throw err;
    }
  }

  async write(
    path: string,
    body: Readable,
    options: IWriteOptions
  ): Promise<IWriteResult> {
    const key = this.fileKey(path);
    const counter = new ByteCounter(options.size, options);
    const onAbort = (): void => {
      counter.destroy(new StorageError('invalid', 'the upload was aborted'));
    };
    if (options.signal?.aborted) {
      onAbort();
    }
    options.signal?.addEventListener('abort', onAbort);
    body.on('error', e => counter.destroy(e));
    body.on('close', () => {
      if (!body.readableEnded) {
        counter.destroy(shortBody(counter.bytes, options.size));
      }
    });
    body.pipe(counter);
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: counter,
        ContentLength: options.size,
        ContentType: options.contentType ?? 'application/octet-stream'
      },
      partSize: this.options.partSize,
      queueSize: this.options.queueSize,
      leavePartsOnError: false
    });
    try {
      await upload.done();
    } catch (e) {
      body.unpipe(counter);
      body.resume();
      counter.destroy();
      throw e instanceof StorageError
        ? e
        : toStorageError(e, this.describe(path), this.bucket);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    return { size: counter.bytes, sha256: counter.sha256() };
  }

  async mkdir(path: string): Promise<void> {
    if ((await this.head(path)) !== null) {
      throw new StorageError('exists', `A file named ${path} exists`);
    }
    await this.send(this.describe(path), () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.folderPrefix(path),
          Body: '',
          ContentLength: 0
        })
      )
    );
  }

  async rename(from: string, to: string): Promise<void> {
    await this.copy(from, to, true);
    await this.delete(from);
  }

  async copyWithin(from: string, to: string): Promise<void> {
    await this.copy(from, to, false);
  }

  /** Copies a file or a whole folder; `exclusive` refuses an existing target. */
  private async copy(
    from: string,
    to: string,
    exclusive: boolean
  ): Promise<void> {
    checkRelativePath(from, false);
    checkRelativePath(to, false);
    if (isSameOrInside(from, to)) {
      throw new StorageError(
        'invalid',
        `Cannot move or copy ${from} into itself (${to})`
      );
    }
    const source = await this.stat(from);
    if (source === null) {
      throw new StorageError('not_found', `There is no file or folder ${from}`);
    }
    if (exclusive && (await this.stat(to)) !== null) {
      throw new StorageError('exists', `${to} already exists`);
    }
    if (source.type === 'file') {
      await this.copyObject(
        this.fileKey(from),
        this.fileKey(to),
        source.size ?? 0
      );
      return;
    }
    const fromPrefix = this.folderPrefix(from);
    const toPrefix = this.folderPrefix(to);
    for await (const page of this.pages(fromPrefix)) {
      await inBatches(page, COPY_CONCURRENCY, o =>
        this.copyObject(
          o.Key ?? '',
          toPrefix + (o.Key ?? '').slice(fromPrefix.length),
          o.Size ?? 0
        )
      );
    }
  }

  private async copyObject(
    fromKey: string,
    toKey: string,
    size: number
  ): Promise<void> {
    const what = this.describe(this.pathOf(fromKey));
    if (size <= this.options.multipartCopyThreshold) {
      await this.send(what, () =>
        this.client.send(
          new CopyObjectCommand({
            Bucket: this.bucket,
            Key: toKey,
            CopySource: copySource(this.bucket, fromKey)
          })
        )
      );
      return;
    }
    const { UploadId } = await this.send(what, () =>
      this.client.send(
        new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: toKey })
      )
    );
    try {
      const parts: IMultipartPart[] = [];
      const partSize = this.options.copyPartSize;
      for (let start = 0, n = 1; start < size; start += partSize, n++) {
        const end = Math.min(size, start + partSize) - 1;
        const out = await this.send(what, () =>
          this.client.send(
            new UploadPartCopyCommand({
              Bucket: this.bucket,
              Key: toKey,
              UploadId,
              PartNumber: n,
              CopySource: copySource(this.bucket, fromKey),
              CopySourceRange: `bytes=${start}-${end}`
            })
          )
        );
        parts.push({ partNumber: n, etag: out.CopyPartResult?.ETag ?? '' });
      }
      await this.send(what, () =>
        this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key: toKey,
            UploadId,
            MultipartUpload: {
              Parts: parts.map(p => ({
                PartNumber: p.partNumber,
                ETag: p.etag
              }))
            }
          })
        )
      );
    } catch (e) {
      await this.client
        .send(
          new AbortMultipartUploadCommand({
            Bucket: this.bucket,
            Key: toKey,
            UploadId
          })
        )
        .catch(() => undefined);
      throw e;
    }
  }

  async delete(path: string): Promise<void> {
    checkRelativePath(path, false);
    const target = await this.stat(path);
    if (target === null) {
      throw new StorageError('not_found', `There is no file or folder ${path}`);
    }
    if (target.type === 'file') {
      await this.send(this.describe(path), () =>
        this.client.send(
          new DeleteObjectCommand({
            Bucket: this.bucket,
            Key: this.fileKey(path)
          })
        )
      );
      return;
    }
    // Collect first: deleting while paging would shift the continuation token.
    const keys: string[] = [];
    for await (const page of this.pages(this.folderPrefix(path))) {
      keys.push(...page.map(o => o.Key ?? ''));
    }
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const command = new DeleteObjectsCommand({
        Bucket: this.bucket,
        Delete: { Objects: batch.map(Key => ({ Key })), Quiet: true }
      });
      withContentMd5(command);
      const out = await this.send(this.describe(path), () =>
        this.client.send(command)
      );
      const failed = out.Errors ?? [];
      if (failed.length > 0) {
        throw new StorageError(
          failed[0].Code === 'AccessDenied' ? 'denied' : 'unavailable',
          `Could not delete ${failed.length} object(s) under ${path}: ${failed[0].Message ?? failed[0].Code ?? 'unknown error'}`
        );
      }
    }
  }

  async usage(): Promise<number> {
    let total = 0;
    for await (const page of this.pages(this.prefix)) {
      for (const o of page) {
        total += o.Size ?? 0;
      }
    }
    return total;
  }

  async *walk(path: string): AsyncIterable<IStorageEntry> {
    if (checkRelativePath(path) !== '') {
      const file = await this.head(path);
      if (file !== null) {
        yield file;
        return;
      }
    }
    for await (const page of this.pages(this.folderPrefix(path))) {
      for (const o of page) {
        if (!(o.Key ?? '/').endsWith('/')) {
          yield this.fileEntry(o);
        }
      }
    }
  }

  /** Every object under `prefix` (markers included), a listing page at a time. */
  private async *pages(prefix: string): AsyncIterable<_Object[]> {
    let token: string | undefined;
    do {
      const out: ListObjectsV2CommandOutput = await this.send(
        this.describe(this.pathOf(prefix)),
        () =>
          this.client.send(
            new ListObjectsV2Command({
              Bucket: this.bucket,
              Prefix: prefix,
              ContinuationToken: token
            })
          )
      );
      yield (out.Contents ?? []).filter(o => o.Key !== undefined);
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token !== undefined);
  }
}

class S3DirectAccess implements IDirectAccess {
  constructor(private readonly port: S3Storage) {}

  private get bucket(): string {
    return this.port.bucketName;
  }

  presignGet(
    path: string,
    expiresInSeconds: number,
    options: { downloadName?: string } = {}
  ): Promise<string> {
    return getSignedUrl(
      this.port.signer,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: this.port.fileKey(path),
        ResponseContentDisposition:
          options.downloadName === undefined
            ? undefined
            : attachment(options.downloadName)
      }),
      { expiresIn: expiresInSeconds }
    );
  }

  async createMultipart(
    path: string,
    options: { contentType?: string } = {}
  ): Promise<string> {
    const out = await this.port.send(path, () =>
      this.port.s3.send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.port.fileKey(path),
          // Without it Swift stores the object as application/xml.
          ContentType: options.contentType ?? 'application/octet-stream'
        })
      )
    );
    if (out.UploadId === undefined) {
      throw new StorageError('unavailable', 'S3 did not return an upload id');
    }
    return out.UploadId;
  }

  /**
   * Content-Length is one of the URL's signed headers (X-Amz-SignedHeaders:
   * content-length;host), so S3 refuses a body of any other length.
   */
  presignPart(
    path: string,
    uploadId: string,
    partNumber: number,
    size: number,
    expiresInSeconds: number
  ): Promise<string> {
    return getSignedUrl(
      this.port.signer,
      new UploadPartCommand({
        Bucket: this.bucket,
        Key: this.port.fileKey(path),
        UploadId: uploadId,
        PartNumber: partNumber,
        ContentLength: size
      }),
      {
        expiresIn: expiresInSeconds,
        signableHeaders: new Set(['content-length'])
      }
    );
  }

  async uploadPart(
    path: string,
    uploadId: string,
    partNumber: number,
    body: Readable,
    size: number
  ): Promise<IMultipartPart> {
    const counter = new ByteCounter(size);
    // The SDK pipes the body into the request, which would wait for the missing bytes.
    const request = new AbortController();
    let failure: unknown = null;
    counter.on('error', e => {
      failure = e;
      request.abort();
    });
    body.on('error', e => counter.destroy(e));
    body.on('close', () => {
      if (!body.readableEnded) {
        counter.destroy(
          new StorageError(
            'invalid',
            `part ${partNumber} ended after ${counter.bytes} of ${size} bytes`
          )
        );
      }
    });
    body.pipe(counter);
    try {
      const out = await this.port.send(`part ${partNumber} of ${path}`, () =>
        this.port.s3.send(
          new UploadPartCommand({
            Bucket: this.bucket,
            Key: this.port.fileKey(path),
            UploadId: uploadId,
            PartNumber: partNumber,
            Body: counter,
            ContentLength: size
          }),
          { abortSignal: request.signal }
        )
      );
      return { partNumber, etag: out.ETag ?? '' };
    } catch (e) {
      body.unpipe(counter);
      body.resume();
      throw failure ?? e;
    }
  }

  async listParts(
    path: string,
    uploadId: string
  ): Promise<(IMultipartPart & { size: number })[]> {
    const parts: (IMultipartPart & { size: number })[] = [];
    let marker: string | undefined;
    do {
      const out = await this.port.send(path, () =>
        this.port.s3.send(
          new ListPartsCommand({
            Bucket: this.bucket,
            Key: this.port.fileKey(path),
            UploadId: uploadId,
            PartNumberMarker: marker
          })
        )
      );
      for (const p of out.Parts ?? []) {
        parts.push({
          partNumber: p.PartNumber ?? 0,
          etag: p.ETag ?? '',
          size: p.Size ?? 0
        });
      }
      marker = out.IsTruncated ? out.NextPartNumberMarker : undefined;
    } while (marker !== undefined);
    return parts;
  }

  async completeMultipart(
    path: string,
    uploadId: string,
    parts: readonly IMultipartPart[]
  ): Promise<void> {
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    await this.port.send(path, () =>
      this.port.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.port.fileKey(path),
          UploadId: uploadId,
          MultipartUpload: {
            Parts: sorted.map(p => ({ PartNumber: p.partNumber, ETag: p.etag }))
          }
        })
      )
    );
  }

  async abortMultipart(path: string, uploadId: string): Promise<void> {
    await this.port.send(path, () =>
      this.port.s3.send(
        new AbortMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.port.fileKey(path),
          UploadId: uploadId
        })
      )
    );
  }
}

/** Swift's s3api insists on Content-MD5 for DeleteObjects (the SDK sends a CRC32). */
function withContentMd5(command: DeleteObjectsCommand): void {
  command.middlewareStack.add(
    next => async args => {
      const request = args.request as {
        body?: unknown;
        headers?: Record<string, string>;
      };
      if (typeof request.body === 'string' && request.headers !== undefined) {
        for (const name of Object.keys(request.headers)) {
          if (/^x-amz-(checksum-|sdk-checksum-algorithm)/i.test(name)) {
            delete request.headers[name];
          }
        }
        request.headers['content-md5'] = createHash('md5')
          .update(request.body)
          .digest('base64');
      }
      return next(args);
    },
    { step: 'build', name: 'hpcBridgeContentMd5', priority: 'low' }
  );
}

function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** `Content-Disposition` for a download, with an ASCII fallback and the UTF-8 name. */
function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** Runs `fn` over `items`, at most `concurrency` at once; the first failure wins. */
async function inBatches<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<void>
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, worker)
  );
}
