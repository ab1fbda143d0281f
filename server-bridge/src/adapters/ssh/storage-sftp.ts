/** SFTP calls as promises, SFTP status codes as storage errors, and sessions that outlive a call. */
import type { SFTPWrapper, Stats } from 'ssh2';
import { StorageError, type IStorageEntry } from '../../ports/storage';
import { baseName } from '../storage-paths';
import type { SshConnection } from './client';

export const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;
/** What OpenSSH answers for a name over NAME_MAX, among others. */
const BAD_MESSAGE = 5;

export function call<T>(
  fn: (cb: (err: Error | null | undefined, value: T) => void) => void
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    fn((err, value) => (err ? reject(err) : resolve(value)));
  });
}

export function done(
  fn: (cb: (err: Error | null | undefined) => void) => void
): Promise<void> {
  return call<undefined>(cb => fn(err => cb(err, undefined)));
}

export function sftpCode(e: unknown): unknown {
  return (e as { code?: unknown }).code;
}

/** SFTP status codes as `StorageError`s; SSH connection errors pass unchanged. */
export function toStorageError(e: unknown, what: string): unknown {
  if (e instanceof StorageError) {
    return e;
  }
  switch (sftpCode(e)) {
    case NO_SUCH_FILE:
      return new StorageError('not_found', `There is no ${what}`);
    case PERMISSION_DENIED:
      return new StorageError('denied', `Permission denied: ${what}`);
    case BAD_MESSAGE:
      return new StorageError(
        'invalid',
        `The cluster's file system refused the name of ${what} (too long or not valid there)`
      );
    default:
      return e;
  }
}

export interface ISftpSession {
  sftp: SFTPWrapper;
  /** Closes the SFTP channel. */
  release(): void;
}

/**
 * An SFTP channel that stays open until `release` (a download stream outlives the
 * call that opened it), on top of `withSftp`, which closes the channel when its
 * callback settles.
 */
export function openSession(conn: SshConnection): Promise<ISftpSession> {
  return new Promise<ISftpSession>((resolve, reject) => {
    let opened = false;
    conn
      .withSftp(
        sftp =>
          new Promise<void>(release => {
            opened = true;
            resolve({ sftp, release: () => release() });
          })
      )
      .catch((e: unknown) => {
        if (!opened) {
          reject(e);
        }
      });
  });
}

export function entryOf(path: string, attrs: Stats): IStorageEntry {
  const isDir = attrs.isDirectory();
  return {
    name: baseName(path),
    path,
    type: isDir ? 'directory' : 'file',
    size: isDir ? null : attrs.size,
    lastModified: attrs.mtime ? new Date(attrs.mtime * 1000) : null
  };
}
