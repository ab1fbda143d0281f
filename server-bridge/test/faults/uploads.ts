/** Streamed uploads for the fault suite: one that stalls half-way, one that completes. */
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { Routes } from '../../src/contract';
import { BRIDGE_URL } from '../integration/stack';

export const MIB = 1024 ** 2;

/** `size` bytes that are a function of `seed` (so a retry sends the same content). */
export function content(size: number, seed: string): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(seed).digest();
  for (let at = 0; at < size; at += block.length) {
    block.copy(out, at);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

export interface IInFlight {
  /** Bytes the bridge has read so far (it reads only what it can pass on). */
  sent: () => number;
  /** Settles when the request ends: its status, or the error that broke it. */
  result: Promise<{ status: number } | { error: string }>;
  /** Ends the request from this side (after an early answer, or when a test fails). */
  abort: () => void;
}

/**
 * PUTs `declared` bytes of `data` to TIER at PATH but sends only `data` (less than
 * declared) and then waits: the upload stays in flight until the connection breaks.
 */
export function stalledUpload(
  tier: string,
  path: string,
  token: string,
  data: Buffer,
  declared: number
): IInFlight {
  let sent = 0;
  let offset = 0;
  const source = new Readable({
    read() {
      if (offset >= data.length) {
        return; // stall: never push more, never end
      }
      const chunk = data.subarray(offset, offset + MIB);
      offset += chunk.length;
      sent += chunk.length;
      this.push(chunk);
    }
  });
  let abort = (): void => undefined;
  const result = new Promise<{ status: number } | { error: string }>(
    resolve => {
      const req = httpRequest(
        `${BRIDGE_URL}${Routes.tierContent(tier)}?${new URLSearchParams({ path })}`,
        {
          method: 'PUT',
          // Its own connection, closed with the request: no kept-alive socket in
          // the global agent's pool outlives the test.
          agent: false,
          headers: {
            Authorization: `token ${token}`,
            'Content-Type': 'application/octet-stream',
            'Content-Length': String(declared)
          }
        },
        res => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
          res.on('error', e => resolve({ error: e.message }));
        }
      );
      req.on('error', e => resolve({ error: e.message }));
      abort = () => {
        source.destroy();
        req.destroy();
      };
      source.pipe(req);
    }
  );
  return { sent: () => sent, result, abort: () => abort() };
}
