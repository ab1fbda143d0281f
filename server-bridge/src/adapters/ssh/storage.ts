/**
 * The SFTP storage adapter: a directory on the cluster (`/scratch/alice`), accessed as the
 * user over the user's own SSH connection, so the cluster's permissions apply as well.
 * Uploads go to a temporary name next to the target and are renamed over it at the end;
 * symbolic links are not followed out of the root (listings leave them out, and every
 * path is checked with realpath against the root's own realpath).
 */
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { SFTPWrapper, Stats } from 'ssh2';
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
  checkRelativePath,
  isSameOrInside,
  joinPath,
  parentOf
} from '../storage-paths';
import type { SshConnection } from './client';
import { SftpReadStream, SftpWriteStream } from './sftp-streams';
import {
  call,
  done,
  entryOf,
  NO_SUCH_FILE,
  openSession,
  sftpCode,
  toStorageError
} from './storage-sftp';
import { compare, decodeCursor, encodeCursor } from './storage-listing';
import { renameOver, uploadTempName } from './storage-upload';
import { SftpRoot } from './storage-root';

/** A port on the directory `root` (absolute) of the user's cluster account. */
export function sftpStorage(
  connection: SshConnection,
  root: string
): IStoragePort {
  return new SftpStorage(connection, root);
}

class SftpStorage implements IStoragePort {
  private readonly tree: SftpRoot;

  constructor(
    private readonly conn: SshConnection,
    root: string
  ) {
    this.tree = new SftpRoot(root);
  }

  private async session<T>(fn: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    return this.conn.withSftp(async sftp => {
      await this.tree.rootReal(sftp);
      return fn(sftp);
    });
  }

  async list(
    dir: string,
    limit: number,
    cursor?: string
  ): Promise<IStoragePage> {
    checkRelativePath(dir);
    const after = cursor === undefined ? null : decodeCursor(cursor);
    const list = await this.session(sftp => this.tree.readdir(sftp, dir));
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
      if (!(await this.tree.inside(sftp, path))) {
        return null;
      }
      try {
        const attrs = await call<Stats>(cb =>
          sftp.stat(this.tree.abs(path), cb)
        );
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
      await this.tree.rootReal(s.sftp);
      if (!(await this.tree.inside(s.sftp, path))) {
        s.release();
        return null;
      }
      const attrs = await call<Stats>(cb =>
        s.sftp.stat(this.tree.abs(path), cb)
      );
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
        s.sftp.open(this.tree.abs(path), 'r', cb)
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
    const target = this.tree.abs(path);
    const temp = uploadTempName(target);
    let handle: Buffer | null = null;
    try {
      await this.tree.rootReal(s.sftp);
      await this.tree.mkdirIn(s.sftp, parentOf(path));
      const existing = await this.tree.lstat(s.sftp, path);
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
        await renameOver(s.sftp, temp, target);
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
      if ((await this.tree.lstat(sftp, path).catch(() => null)) !== null) {
        throw new StorageError('exists', `${path} already exists`);
      }
      throw e;
    }
  }

  mkdir(path: string): Promise<void> {
    checkRelativePath(path, false);
    return this.session(sftp => this.tree.mkdirIn(sftp, path));
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
      if ((await this.tree.lstat(sftp, from)) === null) {
        throw new StorageError(
          'not_found',
          `There is no file or folder ${from}`
        );
      }
      if ((await this.tree.lstat(sftp, to)) !== null) {
        throw new StorageError('exists', `${to} already exists`);
      }
      await this.tree.mkdirIn(sftp, parentOf(to));
      try {
        // SFTP's plain rename refuses to replace an existing target.
        await done(cb =>
          sftp.rename(this.tree.abs(from), this.tree.abs(to), cb)
        );
      } catch (e) {
        throw toStorageError(e, from);
      }
    });
  }

  async delete(path: string): Promise<void> {
    checkRelativePath(path, false);
    const isDir = await this.session(async sftp => {
      const attrs = await this.tree.lstat(sftp, path);
      if (attrs === null) {
        throw new StorageError(
          'not_found',
          `There is no file or folder ${path}`
        );
      }
      if (!attrs.isDirectory()) {
        try {
          await done(cb => sftp.unlink(this.tree.abs(path), cb));
        } catch (e) {
          throw toStorageError(e, path);
        }
        return false;
      }
      return true;
    });
    if (isDir) {
      await this.run(
        ['rm', '-rf', '--', this.tree.abs(path)],
        `delete ${path}`
      );
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
      if ((await this.tree.lstat(sftp, from)) === null) {
        throw new StorageError(
          'not_found',
          `There is no file or folder ${from}`
        );
      }
      await this.tree.mkdirIn(sftp, parentOf(to));
      if (!(await this.tree.inside(sftp, parentOf(to)))) {
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
        this.tree.abs(from),
        this.tree.abs(to)
      ],
      `copy ${from} to ${to}`
    );
  }

  async usage(): Promise<number> {
    await this.session(async () => undefined);
    const { stdout } = await this.run(
      ['du', '-sb', '--', this.tree.root],
      `measure ${this.tree.root}`,
      true
    );
    const bytes = /^(\d+)\s/.exec(stdout)?.[1];
    if (bytes === undefined) {
      throw new StorageError(
        'unavailable',
        `du printed no size for ${this.tree.root}`
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
      const list = await this.session(sftp => this.tree.readdir(sftp, dir));
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
