/** A port on one bucket + prefix: keys, listing, reads, streamed writes, deletes. */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
  type _Object
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  StorageError,
  type IByteRange,
  type IDirectAccess,
  type IStorageEntry,
  type IStoragePage,
  type IStoragePort,
  type IStorageRead,
  type IWriteOptions,
  type IWriteResult
} from '../../ports/storage';
import { ByteCounter, shortBody } from '../byte-counter';
import { baseName, checkRelativePath } from '../storage-paths';
import { toStorageError } from './errors';

import { copyTree } from './copy';
import { S3DirectAccess } from './direct-access';
import type { IS3StoreOptions } from './storage';

/** DeleteObjects takes at most 1000 keys. */
const DELETE_BATCH = 1000;

export class S3Storage implements IStoragePort {
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
  folderPrefix(path: string): string {
    checkRelativePath(path);
    return path === '' ? this.prefix : `${this.prefix}${path}/`;
  }

  pathOf(key: string): string {
    return key.slice(this.prefix.length);
  }

  describe(path: string): string {
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
      .map(o => ({
        ...this.fileEntry(o),
        ...(o.ETag === undefined ? {} : { etag: o.ETag })
      }));
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
      return {
        ...this.fileEntry({
          Key: key,
          Size: out.ContentLength,
          LastModified: out.LastModified
        }),
        ...(out.ETag === undefined ? {} : { etag: out.ETag })
      };
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
    const params = {
      Bucket: this.bucket,
      Key: key,
      Body: counter,
      ContentLength: options.size,
      ContentType: options.contentType ?? 'application/octet-stream'
    };
    // Up to the store's object size: one PUT streamed as it arrives (no part buffers,
    // no second copy); beyond it, multipart. The counter hashes and checks every
    // byte, and holds back the last ones until they check out.
    // The counter may fail before the SDK reads it (a short or corrupted body held
    // back whole): its failure aborts the request and is the one reported.
    const stop = new AbortController();
    let counterError: unknown = null;
    counter.once('error', e => {
      counterError = e;
      stop.abort();
    });
    try {
      await (options.size <= this.options.singlePutMax
        ? this.client.send(unsignedPayload(new PutObjectCommand(params)), {
            abortSignal: stop.signal
          })
        : new Upload({
            client: this.client,
            params,
            partSize: this.options.partSize,
            queueSize: this.options.queueSize,
            leavePartsOnError: false,
            abortController: stop
          }).done());
    } catch (e) {
      body.unpipe(counter);
      body.resume();
      counter.destroy();
      const failure = counterError ?? e;
      throw failure instanceof StorageError
        ? failure
        : toStorageError(failure, this.describe(path), this.bucket);
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
    await copyTree(this, from, to, true, this.options);
    await this.delete(from);
  }

  async copyWithin(from: string, to: string): Promise<void> {
    await copyTree(this, from, to, false, this.options);
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
  async *pages(prefix: string): AsyncIterable<_Object[]> {
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

/**
 * Signs the request without hashing its body (`UNSIGNED-PAYLOAD`): the SDK would
 * otherwise read a streamed body twice over plain HTTP, once to hash it and once to
 * send it. The bridge's own counter hashes and checks every byte it relays.
 */
function unsignedPayload<
  C extends { middlewareStack: PutObjectCommand['middlewareStack'] }
>(command: C): C {
  command.middlewareStack.add(
    next => async args => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers !== undefined) {
        request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      }
      return next(args);
    },
    { step: 'build', name: 'hpcBridgeUnsignedPayload', priority: 'low' }
  );
  return command;
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
