/**
 * A pass-through that counts and hashes the bytes of an upload and fails at the end,
 * before the port sees it, unless exactly the announced number arrived and (when the
 * client sent one) the SHA-256 matches: an atomic port then discards the upload, so a
 * short, long or corrupted body never becomes a stored file.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { StorageError } from '../ports/storage';

export interface IByteCounterOptions {
  /** Hex SHA-256 the bytes must hash to. */
  sha256?: string;
  onProgress?: (bytes: number) => void;
}

export class ByteCounter extends Transform {
  private count = 0;
  private readonly hash: Hash = createHash('sha256');
  private digest: string | null = null;
  /**
   * The last chunk, passed on only once the whole body checks out: a store that
   * commits when the announced length has arrived (a single PUT) never gets it all.
   */
  private held: Buffer | null = null;

  constructor(
    private readonly expected: number,
    private readonly options: IByteCounterOptions = {}
  ) {
    super();
  }

  get bytes(): number {
    return this.count;
  }

  /** Hex SHA-256 of everything that passed (call after the end). */
  sha256(): string {
    return this.digest ?? this.hash.copy().digest('hex');
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
          `The body is longer than the declared ${this.expected} bytes; nothing was written`
        )
      );
      return;
    }
    this.hash.update(chunk);
    this.options.onProgress?.(this.count);
    const previous = this.held;
    this.held = chunk;
    callback(null, previous ?? undefined);
  }

  override _flush(callback: TransformCallback): void {
    if (this.count !== this.expected) {
      callback(shortBody(this.count, this.expected));
      return;
    }
    this.digest = this.hash.digest('hex');
    const wanted = this.options.sha256?.toLowerCase();
    if (wanted !== undefined && wanted !== this.digest) {
      callback(
        new StorageError(
          'invalid',
          `SHA-256 mismatch: the bytes received hash to ${this.digest}, not ${wanted}; nothing was written`
        )
      );
      return;
    }
    callback(null, this.held ?? undefined);
  }
}

/** The one sentence for a body that ended early (also when the client went away). */
export function shortBody(received: number, expected: number): StorageError {
  return new StorageError(
    'invalid',
    `Received ${received} of ${expected} bytes; nothing was written`
  );
}
