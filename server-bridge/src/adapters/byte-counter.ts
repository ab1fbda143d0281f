/**
 * A pass-through that counts and hashes the bytes of an upload and fails unless exactly
 * the announced number arrives, so a short or long body never becomes a stored file.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { StorageError } from '../ports/storage';

export class ByteCounter extends Transform {
  private count = 0;
  private readonly hash: Hash = createHash('sha256');

  constructor(
    private readonly expected: number,
    private readonly onProgress?: (bytes: number) => void
  ) {
    super();
  }

  get bytes(): number {
    return this.count;
  }

  /** Hex SHA-256 of everything that passed (call after the end). */
  sha256(): string {
    return this.hash.copy().digest('hex');
  }

  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: TransformCallback
  ): void {
    this.count += chunk.length;
    if (this.count > this.expected) {
      callback(
        new StorageError(
          'invalid',
          `the upload is longer than the announced ${this.expected} bytes`
        )
      );
      return;
    }
    this.hash.update(chunk);
    this.onProgress?.(this.count);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.count !== this.expected) {
      callback(
        new StorageError(
          'invalid',
          `the upload ended after ${this.count} of ${this.expected} bytes`
        )
      );
      return;
    }
    callback();
  }
}
