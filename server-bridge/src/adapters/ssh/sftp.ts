/** Small SFTP helpers over ssh2's callback API: mkdir -p, atomic write, bounded reads. */
import type { SFTPWrapper, Stats } from 'ssh2';

const NO_SUCH_FILE = 2;

function isNoSuchFile(e: unknown): boolean {
  return (e as { code?: unknown }).code === NO_SUCH_FILE;
}

function call<T>(
  fn: (cb: (err: Error | null | undefined, value: T) => void) => void
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    fn((err, value) => (err ? reject(err) : resolve(value)));
  });
}

export function stat(sftp: SFTPWrapper, path: string): Promise<Stats> {
  return call<Stats>(cb => sftp.stat(path, cb));
}

/** The size of a file, or null when it does not exist. */
export async function sizeOf(
  sftp: SFTPWrapper,
  path: string
): Promise<number | null> {
  try {
    return (await stat(sftp, path)).size;
  } catch (e) {
    if (isNoSuchFile(e)) {
      return null;
    }
    throw e;
  }
}

export function realpath(sftp: SFTPWrapper, path: string): Promise<string> {
  return call<string>(cb => sftp.realpath(path, cb));
}

function mkdir(sftp: SFTPWrapper, path: string, mode: number): Promise<void> {
  return call<undefined>(cb =>
    sftp.mkdir(path, { mode }, err => cb(err, undefined))
  );
}

/**
 * `mkdir -p` for an absolute path; `mode` applies to the directories created. Works
 * upwards from the path itself, so a new job directory under an existing root costs a
 * few round trips rather than one mkdir and one stat per component.
 */
export async function mkdirp(
  sftp: SFTPWrapper,
  path: string,
  mode = 0o700
): Promise<void> {
  const normal = `/${path
    .split('/')
    .filter(p => p !== '')
    .join('/')}`;
  try {
    await mkdir(sftp, normal, mode);
    return;
  } catch (e) {
    const parent = normal.slice(0, normal.lastIndexOf('/')) || '/';
    if (!isNoSuchFile(e) || parent === normal) {
      // It exists (a directory, we hope: the next step fails otherwise) or cannot be made.
      if ((await sizeOf(sftp, normal).catch(() => null)) === null) {
        throw e;
      }
      return;
    }
    await mkdirp(sftp, parent, mode);
  }
  try {
    await mkdir(sftp, normal, mode);
  } catch (e) {
    // Made meanwhile by someone else.
    if ((await sizeOf(sftp, normal).catch(() => null)) === null) {
      throw e;
    }
  }
}

/** Writes to `PATH.tmp-N` and renames it over `path`, so readers never see half a file. */
export async function writeFileAtomic(
  sftp: SFTPWrapper,
  path: string,
  data: string | Buffer,
  mode = 0o600
): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  await call<undefined>(cb =>
    sftp.writeFile(tmp, data, { mode }, err => cb(err, undefined))
  );
  try {
    await call<undefined>(cb => sftp.unlink(path, err => cb(err, undefined)));
  } catch (e) {
    if (!isNoSuchFile(e)) {
      throw e;
    }
  }
  await call<undefined>(cb =>
    sftp.rename(tmp, path, err => cb(err, undefined))
  );
}

export class FileTooLargeError extends Error {
  constructor(path: string, limit: number) {
    super(`${path} is larger than ${limit} bytes`);
    this.name = 'FileTooLargeError';
  }
}

/** Reads `length` bytes (or less, at the end) from `offset`; null when the file does not exist. */
export async function readRange(
  sftp: SFTPWrapper,
  path: string,
  offset: number,
  length: number
): Promise<Buffer | null> {
  let handle: Buffer;
  try {
    handle = await call<Buffer>(cb => sftp.open(path, 'r', cb));
  } catch (e) {
    if (isNoSuchFile(e)) {
      return null;
    }
    throw e;
  }
  try {
    const chunks: Buffer[] = [];
    let pos = offset;
    let left = length;
    while (left > 0) {
      const want = Math.min(left, 32 * 1024);
      const buf = Buffer.alloc(want);
      const n = await new Promise<number>((resolve, reject) =>
        sftp.read(handle, buf, 0, want, pos, (err, bytesRead) =>
          err ? reject(err) : resolve(bytesRead)
        )
      );
      if (n <= 0) {
        break;
      }
      chunks.push(buf.subarray(0, n));
      pos += n;
      left -= n;
    }
    return Buffer.concat(chunks);
  } finally {
    await call<undefined>(cb =>
      sftp.close(handle, err => cb(err, undefined))
    ).catch(() => undefined);
  }
}

/** The whole file, or null when missing; throws FileTooLargeError beyond `limit` bytes. */
export async function readFileLimited(
  sftp: SFTPWrapper,
  path: string,
  limit: number
): Promise<Buffer | null> {
  const size = await sizeOf(sftp, path);
  if (size === null) {
    return null;
  }
  if (size > limit) {
    throw new FileTooLargeError(path, limit);
  }
  return readRange(sftp, path, 0, size);
}
