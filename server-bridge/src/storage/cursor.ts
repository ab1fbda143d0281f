/**
 * Listing cursors handed to clients are sealed: the backend's own continuation token plus
 * an HMAC over the folder it belongs to. A forged or foreign cursor is refused here with a
 * 400 instead of reaching the object store (Swift answers a garbled token with a 500).
 * The key comes from the bridge's secret key, so that every replica of one bridge opens the
 * others' cursors (a balancer sends the next page anywhere); without one it lives for one
 * process, and a cursor from before a restart asks for a reload.
 */
import {
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual
} from 'node:crypto';
import { DomainError } from '../domain-error';

let KEY: Buffer = randomBytes(32);

/** Derives the cursors' key from the bridge's secret key (the same on every replica). */
export function keyCursorsWith(secretKey: string): void {
  KEY = Buffer.from(
    hkdfSync('sha256', secretKey, 'hpc-bridge', 'listing cursors', 32)
  );
}
const MAC_CHARS = 22; // 128 bits, base64url

function macOf(folder: string, token: string): string {
  return createHmac('sha256', KEY)
    .update(folder)
    .update('\0')
    .update(token)
    .digest('base64url')
    .slice(0, MAC_CHARS);
}

/** The cursor a client gets for `token`, the next page of `folder`. */
export function sealCursor(folder: string, token: string): string {
  return `${macOf(folder, token)}.${Buffer.from(token, 'utf8').toString('base64url')}`;
}

/** The backend token inside `cursor`, or a 400 when it was not sealed for `folder`. */
export function openCursor(folder: string, cursor: string): string {
  const dot = cursor.indexOf('.');
  const mac = dot === MAC_CHARS ? cursor.slice(0, dot) : '';
  const token = Buffer.from(cursor.slice(dot + 1), 'base64url').toString(
    'utf8'
  );
  const expected = macOf(folder, token);
  if (
    mac.length !== MAC_CHARS ||
    !timingSafeEqual(Buffer.from(mac), Buffer.from(expected))
  ) {
    throw new DomainError(
      'bad_request',
      'The cursor does not belong to this folder listing (or the bridge restarted since); list the folder again without a cursor'
    );
  }
  return token;
}
