/**
 * What the bridge needs from a place that holds files: an S3 prefix or a cluster
 * directory. A port is opened on one root (`s3://bucket/prefix/` or `/scratch/alice`) and
 * every path it takes is relative to that root and already validated by the contract's
 * `TierPathSchema`; adapters still refuse to leave the root (defence in depth).
 */
import type { Readable } from 'node:stream';

export interface IStorageEntry {
  name: string;
  /** Relative to the port's root. */
  path: string;
  type: 'file' | 'directory';
  /** Null for folders. */
  size: number | null;
  lastModified: Date | null;
  /** The object's ETag where the backend gives one (S3 stat). */
  etag?: string;
}

export interface IStoragePage {
  entries: IStorageEntry[];
  /** Opaque, adapter-specific; null on the last page. */
  nextCursor: string | null;
}

export interface IByteRange {
  /** Inclusive. */
  start: number;
  /** Inclusive. */
  end: number;
}

export interface IStorageRead {
  body: Readable;
  /** Size of the whole file. */
  size: number;
  lastModified: Date | null;
}

export interface IWriteOptions {
  /** Exactly this many bytes must arrive; anything else fails and leaves nothing. */
  size: number;
  /** When given, the bytes must hash to this hex SHA-256, else nothing is left. */
  sha256?: string;
  /** Called with the bytes written so far. */
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
  /**
   * Create only: fail with `exists` when a file appeared at `path` meanwhile, instead of
   * replacing it (where the backend can tell; the service also holds a claim).
   */
  exclusive?: boolean;
  /** Stored with the object where the backend keeps one (S3). */
  contentType?: string;
}

export interface IWriteResult {
  size: number;
  /** Hex SHA-256 of the bytes as they were written. */
  sha256: string;
}

export interface IStoragePort {
  /** One page of the folder `dir` (`''` = root), at most `limit` entries. */
  list(dir: string, limit: number, cursor?: string): Promise<IStoragePage>;
  /** Null when nothing is at `path`. A folder is reported as `directory`. */
  stat(path: string): Promise<IStorageEntry | null>;
  /** Null when missing. */
  read(path: string, range?: IByteRange): Promise<IStorageRead | null>;
  /**
   * Streams `body` to `path`. Atomic: until the last byte has arrived nothing new is
   * visible at `path` (a temporary name or an S3 multipart upload), and on any failure
   * (short body, abort, checksum) nothing is left behind.
   */
  write(
    path: string,
    body: Readable,
    options: IWriteOptions
  ): Promise<IWriteResult>;
  /** Creates the folder (and its parents); fine if it exists. */
  mkdir(path: string): Promise<void>;
  /** Moves a file or a whole folder; fails with `exists` if `to` exists. */
  rename(from: string, to: string): Promise<void>;
  /** Deletes a file or a folder with everything in it. */
  delete(path: string): Promise<void>;
  /** Bytes stored under the root (may walk the whole tree: callers cache it). */
  usage(): Promise<number>;
  /** Every file under `path` (itself if a file), for copies between tiers. */
  walk(path: string): AsyncIterable<IStorageEntry>;
  /** A same-backend copy without moving the bytes through the bridge, where possible. */
  copyWithin?(from: string, to: string): Promise<void>;
  /** S3 only: presigned URLs and multipart uploads. */
  readonly direct?: IDirectAccess;
}

export interface IMultipartPart {
  partNumber: number;
  etag: string;
}

/** What S3 adds: URLs that let a browser, kernel or job talk to S3 itself. */
export interface IDirectAccess {
  presignGet(
    path: string,
    expiresInSeconds: number,
    options?: { downloadName?: string }
  ): Promise<string>;
  /** Starts a multipart upload at `path`; nothing is visible before `complete`. */
  createMultipart(
    path: string,
    options?: { contentType?: string }
  ): Promise<string>;
  /** A URL for one part that S3 accepts only with exactly `size` bytes (signed length). */
  presignPart(
    path: string,
    uploadId: string,
    partNumber: number,
    size: number,
    expiresInSeconds: number
  ): Promise<string>;
  /** Uploads one part through the bridge (streamed). */
  uploadPart(
    path: string,
    uploadId: string,
    partNumber: number,
    body: Readable,
    size: number
  ): Promise<IMultipartPart>;
  /** The parts S3 holds for the upload (to check sizes and ETags before completing). */
  listParts(
    path: string,
    uploadId: string
  ): Promise<(IMultipartPart & { size: number })[]>;
  completeMultipart(
    path: string,
    uploadId: string,
    parts: readonly IMultipartPart[]
  ): Promise<void>;
  abortMultipart(path: string, uploadId: string): Promise<void>;
}

/** Errors adapters throw so that the service can answer with the right status. */
export class StorageError extends Error {
  constructor(
    readonly kind:
      | 'not_found'
      | 'exists'
      | 'not_empty'
      | 'denied'
      | 'invalid'
      | 'unavailable',
    message: string
  ) {
    super(message);
    this.name = 'StorageError';
  }
}
