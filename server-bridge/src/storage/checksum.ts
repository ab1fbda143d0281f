/**
 * A pass-through stream that counts and hashes what flows to a port, and fails at the
 * end (before the port sees the end) when the size or the client's SHA-256 differ, so
 * that an atomic port discards the upload. It hands the bytes on in chunks of up to
 * 1 MiB: an SFTP write is one round trip per chunk, and sockets deliver ~64 KiB pieces.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { HttpError } from '../errors';

const CHUNK = 1024 * 1024;

export class VerifyingStream extends Transform {
  private readonly hash = createHash('sha256');
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  bytes = 0;

  constructor(
    private readonly expectedSize: number,
    private readonly expectedSha256?: string,
    private readonly onProgress?: (bytes: number) => void
  ) {
    super();
  }

  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: TransformCallback
  ): void {
    this.bytes += chunk.length;
    if (this.bytes > this.expectedSize) {
      callback(
        new HttpError(
          'bad_request',
          `The body is longer than the declared ${this.expectedSize} bytes`
        )
      );
      return;
    }
    this.hash.update(chunk);
    this.onProgress?.(this.bytes);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= CHUNK) {
      this.push(Buffer.concat(this.pending));
      this.pending = [];
      this.pendingBytes = 0;
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.bytes !== this.expectedSize) {
      callback(
        new HttpError(
          'bad_request',
          `Received ${this.bytes} of ${this.expectedSize} bytes; nothing was written`
        )
      );
      return;
    }
    const sha256 = this.hash.digest('hex');
    if (
      this.expectedSha256 !== undefined &&
      sha256 !== this.expectedSha256.toLowerCase()
    ) {
      callback(
        new HttpError(
          'bad_request',
          `SHA-256 mismatch: the bytes received hash to ${sha256}, not ${this.expectedSha256}; nothing was written`
        )
      );
      return;
    }
    this.sha256 = sha256;
    callback(
      null,
      this.pendingBytes > 0 ? Buffer.concat(this.pending) : undefined
    );
  }

  /** Set once every byte arrived and matched. */
  sha256: string | undefined;
}
