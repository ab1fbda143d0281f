/**
 * The SFTP storage adapter: a directory on the cluster (`/scratch/alice`), accessed as the
 * user over the user's own SSH connection, so the cluster's permissions apply as well.
 * Uploads go to a temporary name next to the target and are renamed over it at the end;
 * symbolic links are not followed out of the root (listings leave them out, and every
 * path is checked with realpath against the root's own realpath).
 */
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { FileEntryWithStats, SFTPWrapper, Stats } from 'ssh2';
import {
  StorageError,
  type IByteRange,
  type IStorageEntry,
  type IStoragePage,
  type IStoragePort,
  type IStorageRead,
  type IWriteOptions,
  type IWriteResult
} from '../../ports/storage';
import { ByteCounter, shortBody } from '../byte-counter';
import {
  baseName,
  checkRelativePath,
  isSameOrInside,
  joinPath,
  parentOf
} from '../storage-paths';
import type { SshConnection } from './client';
import { SftpReadStream, SftpWriteStream } from './sftp-streams';

const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;
/** What OpenSSH answers for a name over NAME_MAX, among others. */
const BAD_MESSAGE = 5;

function call<T>(
  fn: (cb: (err: Error | null | undefined, value: T) => void) => void
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    fn((err, value) => (err ? reject(err) : resolve(value)));
  });
}

function done(
  fn: (cb: (err: Error | null | undefined) => void) => void
): Promise<void> {
  return call<undefined>(cb => fn(err => cb(err, undefined)));
}

function sftpCode(e: unknown): unknown {
  return (e as { code?: unknown }).code;
}

/** SFTP status codes as `StorageError`s; SSH connection errors pass unchanged. */
function toStorageError(e: unknown, what: string): unknown {
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

interface ISftpSession {
  sftp: SFTPWrapper;
  /** Closes the SFTP channel. */
  release(): void;
}

/**
 * An SFTP channel that stays open until `release` (a download stream outlives the
 * call that opened it), on top of `withSftp`, which closes the channel when its
 * callback settles.
 */
function openSession(conn: SshConnection): Promise<ISftpSession> {
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

function entryOf(path: string, attrs: Stats): IStorageEntry {
  const isDir = attrs.isDirectory();
  return {
    name: baseName(path),
    path,
    type: isDir ? 'directory' : 'file',
    size: isDir ? null : attrs.size,
    lastModified: attrs.mtime ? new Date(attrs.mtime * 1000) : null
  };
}

/** Position in a listing: folders first, then by name (code units). */
interface IListPosition {
  dir: boolean;
  name: string;
}

function compare(a: IListPosition, b: IListPosition): number {
  if (a.dir !== b.dir) {
    return a.dir ? -1 : 1;
  }
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function encodeCursor(p: IListPosition): string {
  return Buffer.from(JSON.stringify([p.dir ? 1 : 0, p.name])).toString(
    'base64url'
  );
}

function decodeCursor(cursor: string): IListPosition {
  try {
    const [dir, name] = JSON.parse(
      Buffer.from(cursor, 'base64url').toString('utf8')
    ) as unknown[];
    if ((dir === 0 || dir === 1) && typeof name === 'string') {
      return { dir: dir === 1, name };
    }
  } catch {
    // fall through
  }
  throw new StorageError('invalid', 'The listing cursor is not valid');
}

/** A port on the directory `root` (absolute) of the user's cluster account. */
/** Uploads land in a hidden sibling first; listings never show one, even one left by a crash. */
const UPLOAD_TEMP = /^\..+\.hpc-upload-[0-9a-f]{12}$/;

/** Bytes the temporary name adds to the file's own: a dot and `.hpc-upload-` + 12 hex. */
const TEMP_EXTRA = 1 + 12 + 12;

/**
 * `.NAME.hpc-upload-RANDOM` next to the target, NAME shortened (whole characters) so
 * that the temporary name stays within the file system's 255 bytes.
 */
export function uploadTempName(target: string): string {
  const slash = target.lastIndexOf('/');
  let name = target.slice(slash + 1);
  while (Buffer.byteLength(name) > 255 - TEMP_EXTRA) {
    name = Array.from(name).slice(0, -1).join('');
  }
  return `${target.slice(0, slash + 1)}.${name}.hpc-upload-${randomBytes(6).toString('hex')}`;
}

export function sftpStorage(
  connection: SshConnection,
  root: string
): IStoragePort {
  return new SftpStorage(connection, root);
}

class SftpStorage implements IStoragePort {
  private readonly root: string;
  private realRoot: Promise<string> | null = null;

  constructor(
    private readonly conn: SshConnection,
    root: string
  ) {
    const trimmed = root.replace(/\/+$/, '');
    if (!root.startsWith('/')) {
      throw new StorageError('invalid', `"${root}" is not an absolute path`);
    }
    if (trimmed !== '') {
      checkRelativePath(trimmed.slice(1), false);
    }
    this.root = trimmed === '' ? '/' : trimmed;
  }

  private abs(path: string): string {
    checkRelativePath(path);
    if (path === '') {
      return this.root;
    }
    return this.root === '/' ? `/${path}` : `${this.root}/${path}`;
  }

  private async session<T>(fn: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    return this.conn.withSftp(async sftp => {
      await this.rootReal(sftp);
      return fn(sftp);
    });
  }

  /** The root's realpath; not_found with a sentence when the folder is missing. */
  private rootReal(sftp: SFTPWrapper): Promise<string> {
    if (this.realRoot === null) {
      const check = (async () => {
        let attrs: Stats;
        try {
          attrs = await call<Stats>(cb => sftp.stat(this.root, cb));
        } catch (e) {
          if (sftpCode(e) === NO_SUCH_FILE) {
            throw new StorageError(
              'not_found',
              `the folder ${this.root} does not exist on the cluster`
            );
          }
          throw toStorageError(e, `folder ${this.root}`);
        }
        if (!attrs.isDirectory()) {
          throw new StorageError(
            'not_found',
            `${this.root} on the cluster is not a folder`
          );
        }
        return call<string>(cb => sftp.realpath(this.root, cb));
      })();
      this.realRoot = check;
      check.catch(() => {
        this.realRoot = null;
      });
    }
    return this.realRoot;
  }

  /**
   * Refuses `path` when it resolves (through symbolic links) outside the root.
   * Returns false when it does not exist.
   */
  private async inside(sftp: SFTPWrapper, path: string): Promise<boolean> {
    const realRoot = await this.rootReal(sftp);
    let real: string;
    try {
      real = await call<string>(cb => sftp.realpath(this.abs(path), cb));
    } catch (e) {
      if (sftpCode(e) === NO_SUCH_FILE) {
        return false;
      }
      throw toStorageError(e, path);
    }
    if (!(realRoot === '/' || isSameOrInside(realRoot, real))) {
      throw new StorageError(
        'denied',
        `${path} is a link that leads out of the tier`
      );
    }
    return true;
  }

  /**
   * lstat of `path` itself (a link is not followed), after checking that the folder
   * holding it resolves inside the root; null when missing.
   */
  private async lstat(sftp: SFTPWrapper, path: string): Promise<Stats | null> {
    if (path !== '' && !(await this.inside(sftp, parentOf(path)))) {
      return null;
    }
    try {
      return await call<Stats>(cb => sftp.lstat(this.abs(path), cb));
    } catch (e) {
      if (sftpCode(e) === NO_SUCH_FILE) {
        return null;
      }
      throw toStorageError(e, path);
    }
  }

  private async readdir(
    sftp: SFTPWrapper,
    dir: string
  ): Promise<FileEntryWithStats[]> {
    const attrs = (await this.inside(sftp, dir))
      ? await call<Stats>(cb => sftp.stat(this.abs(dir), cb)).catch(() => null)
      : null;
    if (attrs === null || !attrs.isDirectory()) {
      throw new StorageError('not_found', `There is no folder ${dir}`);
    }
    try {
      const list = await call<FileEntryWithStats[]>(cb =>
        sftp.readdir(this.abs(dir), cb)
      );
      // Links and special files are left out: nothing is followed out of the root.
      return list.filter(
        e =>
          e.filename !== '.' &&
          e.filename !== '..' &&
          !UPLOAD_TEMP.test(e.filename) &&
          (e.attrs.isDirectory() || e.attrs.isFile())
      );
    } catch (e) {
      throw toStorageError(e, `folder ${dir}`);
    }
  }

  async list(
    dir: string,
    limit: number,
    cursor?: string
  ): Promise<IStoragePage> {
    checkRelativePath(dir);
    const after = cursor === undefined ? null : decodeCursor(cursor);
    const list = await this.session(sftp => this.readdir(sftp, dir));
    const sorted = list
      .map(e => ({ dir: e.attrs.isDirectory(), name: e.filename, e }))
      .sort(compare)
      .filter(p => after === null || compare(p, after) > 0);
    const page = sorted.slice(0, Math.max(1, limit));
    const last = page[page.length - 1];
    return {
      entries: page.map(p => entryOf(joinPath(dir, p.name), p.e.attrs)),
      nextCursor: sorted.length > page.length ? encodeCursor(last) : null
    };
  }

  stat(path: string): Promise<IStorageEntry | null> {
    checkRelativePath(path);
    return this.session(async sftp => {
      if (!(await this.inside(sftp, path))) {
        return null;
      }
      try {
        const attrs = await call<Stats>(cb => sftp.stat(this.abs(path), cb));
        return entryOf(path, attrs);
      } catch (e) {
        if (sftpCode(e) === NO_SUCH_FILE) {
          return null;
        }
        throw toStorageError(e, path);
      }
    });
  }

  async read(path: string, range?: IByteRange): Promise<IStorageRead | null> {
    checkRelativePath(path, false);
    const s = await openSession(this.conn);
    try {
      await this.rootReal(s.sftp);
      if (!(await this.inside(s.sftp, path))) {
        s.release();
        return null;
      }
      const attrs = await call<Stats>(cb => s.sftp.stat(this.abs(path), cb));
      if (!attrs.isFile()) {
        throw new StorageError('invalid', `${path} is a folder, not a file`);
      }
      if (range !== undefined && range.start >= Math.max(attrs.size, 1)) {
        throw new StorageError(
          'invalid',
          `The range starts after the end of ${path} (${attrs.size} bytes)`
        );
      }
      const handle = await call<Buffer>(cb =>
        s.sftp.open(this.abs(path), 'r', cb)
      );
      const body = new SftpReadStream(
        s.sftp,
        handle,
        range?.start ?? 0,
        range === undefined ? attrs.size : Math.min(range.end + 1, attrs.size)
      );
      // The channel must outlive this call: it closes with the stream.
      body.once('close', () => {
        s.sftp.close(handle, () => s.release());
      });
      return {
        body,
        size: attrs.size,
        lastModified: attrs.mtime ? new Date(attrs.mtime * 1000) : null
      };
    } catch (e) {
      s.release();
      if (sftpCode(e) === NO_SUCH_FILE) {
        return null;
      }
      throw toStorageError(e, path);
    }
  }

  async write(
    path: string,
    body: Readable,
    options: IWriteOptions
  ): Promise<IWriteResult> {
    checkRelativePath(path, false);
    const counter = new ByteCounter(options.size, options);
    const s = await openSession(this.conn);
    const target = this.abs(path);
    const temp = uploadTempName(target);
    let handle: Buffer | null = null;
    try {
      await this.rootReal(s.sftp);
      await this.mkdirIn(s.sftp, parentOf(path));
      const existing = await this.lstat(s.sftp, path);
      if (existing !== null && existing.isDirectory()) {
        throw new StorageError('exists', `${path} is a folder`);
      }
      handle = await call<Buffer>(cb =>
        s.sftp.open(temp, 'w', { mode: 0o644 }, cb)
      );
      await pipeline(body, counter, new SftpWriteStream(s.sftp, handle), {
        signal: options.signal
      });
      const open = handle;
      handle = null;
      await done(cb => s.sftp.close(open, cb));
      if (options.exclusive === true) {
        await this.createFrom(s.sftp, temp, target, path);
      } else {
        await this.replace(s.sftp, temp, target);
      }
      return { size: counter.bytes, sha256: counter.sha256() };
    } catch (e) {
      if (!body.destroyed) {
        body.resume();
      }
      if (handle !== null) {
        const open = handle;
        await done(cb => s.sftp.close(open, cb)).catch(() => undefined);
      }
      await done(cb => s.sftp.unlink(temp, cb)).catch(() => undefined);
      if ((e as Error).name === 'AbortError') {
        throw new StorageError('invalid', 'the upload was aborted');
      }
      if (
        !(e instanceof StorageError) &&
        (e as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE'
      ) {
        throw shortBody(counter.bytes, options.size);
      }
      throw toStorageError(e, path);
    } finally {
      s.release();
    }
  }

  /**
   * Moves `temp` to `target` only if nothing is there: SFTP's plain rename is
   * OpenSSH's link() + unlink() for files, which fails when the target exists.
   */
  private async createFrom(
    sftp: SFTPWrapper,
    temp: string,
    target: string,
    path: string
  ): Promise<void> {
    try {
      await done(cb => sftp.rename(temp, target, cb));
    } catch (e) {
      if ((await this.lstat(sftp, path).catch(() => null)) !== null) {
        throw new StorageError('exists', `${path} already exists`);
      }
      throw e;
    }
  }

  /** Renames `temp` over `target` in one step where the server can (posix-rename). */
  private async replace(
    sftp: SFTPWrapper,
    temp: string,
    target: string
  ): Promise<void> {
    try {
      await done(cb => sftp.ext_openssh_rename(temp, target, cb));
      return;
    } catch (e) {
      if (sftpCode(e) !== undefined) {
        throw e;
      }
      // Thrown synchronously: the server lacks the extension.
    }
    await done(cb => sftp.unlink(target, cb)).catch((e: unknown) => {
      if (sftpCode(e) !== NO_SUCH_FILE) {
        throw e;
      }
    });
    await done(cb => sftp.rename(temp, target, cb));
  }

  /** `mkdir -p` below the root. */
  private async mkdirIn(sftp: SFTPWrapper, path: string): Promise<void> {
    if (path === '') {
      return;
    }
    let current = '';
    for (const segment of path.split('/')) {
      current = joinPath(current, segment);
      const attrs = await this.lstat(sftp, current);
      if (attrs === null) {
        try {
          await done(cb => sftp.mkdir(this.abs(current), cb));
        } catch (e) {
          const now = await this.lstat(sftp, current);
          if (now === null || !now.isDirectory()) {
            throw toStorageError(e, `folder ${current}`);
          }
        }
      } else if (!attrs.isDirectory()) {
        const target = attrs.isSymbolicLink()
          ? (await this.inside(sftp, current)) &&
            (await call<Stats>(cb => sftp.stat(this.abs(current), cb)))
          : null;
        if (!target || !target.isDirectory()) {
          throw new StorageError(
            'exists',
            `${current} exists and is not a folder`
          );
        }
      }
    }
  }

  mkdir(path: string): Promise<void> {
    checkRelativePath(path, false);
    return this.session(sftp => this.mkdirIn(sftp, path));
  }

  rename(from: string, to: string): Promise<void> {
    checkRelativePath(from, false);
    checkRelativePath(to, false);
    if (isSameOrInside(from, to)) {
      return Promise.reject(
        new StorageError('invalid', `Cannot move ${from} into itself (${to})`)
      );
    }
    return this.session(async sftp => {
      if ((await this.lstat(sftp, from)) === null) {
        throw new StorageError(
          'not_found',
          `There is no file or folder ${from}`
        );
      }
      if ((await this.lstat(sftp, to)) !== null) {
        throw new StorageError('exists', `${to} already exists`);
      }
      await this.mkdirIn(sftp, parentOf(to));
      try {
        // SFTP's plain rename refuses to replace an existing target.
        await done(cb => sftp.rename(this.abs(from), this.abs(to), cb));
      } catch (e) {
        throw toStorageError(e, from);
      }
    });
  }

  async delete(path: string): Promise<void> {
    checkRelativePath(path, false);
    const isDir = await this.session(async sftp => {
      const attrs = await this.lstat(sftp, path);
      if (attrs === null) {
        throw new StorageError(
          'not_found',
          `There is no file or folder ${path}`
        );
      }
      if (!attrs.isDirectory()) {
        try {
          await done(cb => sftp.unlink(this.abs(path), cb));
        } catch (e) {
          throw toStorageError(e, path);
        }
        return false;
      }
      return true;
    });
    if (isDir) {
      await this.run(['rm', '-rf', '--', this.abs(path)], `delete ${path}`);
    }
  }

  async copyWithin(from: string, to: string): Promise<void> {
    checkRelativePath(from, false);
    checkRelativePath(to, false);
    if (isSameOrInside(from, to)) {
      throw new StorageError(
        'invalid',
        `Cannot copy ${from} into itself (${to})`
      );
    }
    await this.session(async sftp => {
      if ((await this.lstat(sftp, from)) === null) {
        throw new StorageError(
          'not_found',
          `There is no file or folder ${from}`
        );
      }
      await this.mkdirIn(sftp, parentOf(to));
      if (!(await this.inside(sftp, parentOf(to)))) {
        throw new StorageError(
          'not_found',
          `There is no folder ${parentOf(to)}`
        );
      }
    });
    await this.run(
      [
        'cp',
        '-R',
        '-T',
        '--preserve=timestamps',
        '--',
        this.abs(from),
        this.abs(to)
      ],
      `copy ${from} to ${to}`
    );
  }

  async usage(): Promise<number> {
    await this.session(async () => undefined);
    const { stdout } = await this.run(
      ['du', '-sb', '--', this.root],
      `measure ${this.root}`,
      true
    );
    const bytes = /^(\d+)\s/.exec(stdout)?.[1];
    if (bytes === undefined) {
      throw new StorageError(
        'unavailable',
        `du printed no size for ${this.root}`
      );
    }
    return Number(bytes);
  }

  async *walk(path: string): AsyncIterable<IStorageEntry> {
    checkRelativePath(path);
    const top = await this.stat(path);
    if (top === null) {
      throw new StorageError('not_found', `There is no file or folder ${path}`);
    }
    if (top.type === 'file') {
      yield top;
      return;
    }
    const pending = [path];
    while (pending.length > 0) {
      const dir = pending.pop() ?? '';
      const list = await this.session(sftp => this.readdir(sftp, dir));
      for (const e of list) {
        const child = joinPath(dir, e.filename);
        if (e.attrs.isDirectory()) {
          pending.push(child);
        } else {
          yield entryOf(child, e.attrs);
        }
      }
    }
  }

  /** Runs a command as the user; `partialOk`: a non-zero exit with output still counts. */
  private async run(
    argv: string[],
    what: string,
    partialOk = false
  ): Promise<{ stdout: string }> {
    const result = await this.conn.exec(argv, { timeoutMs: 10 * 60_000 });
    if (result.code !== 0 && !(partialOk && result.stdout.trim() !== '')) {
      const detail = result.stderr.trim().split('\n')[0] ?? '';
      throw new StorageError(
        /Permission denied/i.test(detail) ? 'denied' : 'unavailable',
        `Could not ${what} on the cluster: ${detail || `exit ${result.code}`}`
      );
    }
    return result;
  }
}
