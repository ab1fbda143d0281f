/**
 * File streams over an open SFTP handle with several requests in flight. ssh2's own
 * createReadStream/createWriteStream wait for each request's answer before sending the
 * next one, which caps a transfer at one round trip per chunk (about 10–20 MB/s here).
 * Writes are gathered into whole chunks (an HTTP body arrives in pieces of a few KiB;
 * each SFTP request costs a round of framing and encryption whatever its size).
 * Memory stays bounded: at most `IN_FLIGHT * CHUNK` bytes are outstanding.
 *
 * 1 MiB in flight: with 2 MiB (16 × 128 KiB, or 32 × 64 KiB) downloads stalled on the
 * SSH channel's window and ran at a third of the speed; chunks of 256 KiB exceed
 * OpenSSH's largest read and come back short. Measured with bench/storage.bench.ts.
 */
import { Readable, Writable } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';

const CHUNK = 128 * 1024;
const IN_FLIGHT = 8;

interface IReadSlot {
  offset: number;
  length: number;
  done: boolean;
  error: Error | null;
  data: Buffer | null;
}

/** Reads `[start, end)` of the open file `handle`, in order, several chunks at a time. */
export class SftpReadStream extends Readable {
  private next: number;
  private readonly slots: IReadSlot[] = [];
  /** Bumped when a short read makes the chunks already asked for useless. */
  private generation = 0;
  private finished = false;

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly handle: Buffer,
    start: number,
    private readonly end: number
  ) {
    super({ highWaterMark: IN_FLIGHT * CHUNK });
    this.next = start;
  }

  override _read(): void {
    this.request();
  }

  private request(): void {
    while (
      !this.finished &&
      !this.destroyed &&
      this.slots.length < IN_FLIGHT &&
      this.next < this.end
    ) {
      const slot: IReadSlot = {
        offset: this.next,
        length: Math.min(CHUNK, this.end - this.next),
        done: false,
        error: null,
        data: null
      };
      const generation = this.generation;
      const buffer = Buffer.allocUnsafe(slot.length);
      this.slots.push(slot);
      this.next += slot.length;
      this.sftp.read(
        this.handle,
        buffer,
        0,
        slot.length,
        slot.offset,
        (err, bytesRead) => {
          if (generation !== this.generation) {
            return;
          }
          slot.done = true;
          slot.error = err ?? null;
          slot.data = err ? null : buffer.subarray(0, bytesRead);
          this.deliver();
        }
      );
    }
    if (this.slots.length === 0 && this.next >= this.end) {
      this.finish();
    }
  }

  /** Pushes the answered chunks at the head of the queue, in file order. */
  private deliver(): void {
    let wantMore = true;
    while (this.slots.length > 0 && this.slots[0].done) {
      const slot = this.slots.shift() as IReadSlot;
      if (slot.error !== null) {
        this.destroy(slot.error);
        return;
      }
      const data = slot.data as Buffer;
      if (data.length === 0) {
        // The file ended early (it shrank): stop here.
        this.generation += 1;
        this.slots.length = 0;
        this.finish();
        return;
      }
      if (data.length < slot.length) {
        // A short read: ask again from where it stopped; later chunks are discarded.
        this.generation += 1;
        this.slots.length = 0;
        this.next = slot.offset + data.length;
      }
      wantMore = this.push(data);
    }
    if (wantMore) {
      this.request();
    }
  }

  private finish(): void {
    if (!this.finished) {
      this.finished = true;
      this.push(null);
    }
  }
}

/** Writes sequentially from offset 0 of the open file `handle`, several chunks at a time. */
export class SftpWriteStream extends Writable {
  private position = 0;
  private inFlight = 0;
  /** Bytes written but not sent yet: requests go out whole CHUNKs (the last one shorter). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private failure: Error | null = null;
  /** A write that waits for a free slot, or `_final` waiting for the last answer. */
  private waiting: {
    callback: (err?: Error | null) => void;
    limit: number;
  } | null = null;

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly handle: Buffer
  ) {
    super({ highWaterMark: CHUNK });
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (err?: Error | null) => void
  ): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    while (this.pendingBytes >= CHUNK) {
      this.send(this.take(CHUNK));
    }
    this.whenRoom(callback, IN_FLIGHT);
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (this.pendingBytes > 0) {
      this.send(this.take(this.pendingBytes));
    }
    this.whenRoom(callback, 1);
  }

  /** The first `length` pending bytes as one buffer. */
  private take(length: number): Buffer {
    const all =
      this.pending.length === 1
        ? this.pending[0]
        : Buffer.concat(this.pending, this.pendingBytes);
    const rest = all.subarray(length);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    return all.subarray(0, length);
  }

  private send(piece: Buffer): void {
    const position = this.position;
    this.position += piece.length;
    this.inFlight += 1;
    this.sftp.write(this.handle, piece, 0, piece.length, position, err => {
      this.inFlight -= 1;
      if (err && this.failure === null) {
        this.failure = err;
      }
      this.wake();
    });
  }

  /** Calls back once fewer than `limit` requests are outstanding (or one failed). */
  private whenRoom(
    callback: (err?: Error | null) => void,
    limit: number
  ): void {
    this.waiting = { callback, limit };
    this.wake();
  }

  private wake(): void {
    const w = this.waiting;
    if (w !== null && (this.failure !== null || this.inFlight < w.limit)) {
      // Cleared first: the callback may start the next write, which may wait again.
      this.waiting = null;
      w.callback(this.failure);
    }
  }
}
