/**
 * The root folder of an SFTP port and the paths below it: every path is checked with
 * realpath against the root's own realpath, so no symbolic link leads out of it.
 */
import type { FileEntryWithStats, SFTPWrapper, Stats } from 'ssh2';
import { StorageError } from '../../ports/storage';
import {
  checkRelativePath,
  isSameOrInside,
  joinPath,
  parentOf
} from '../storage-paths';
import {
  call,
  done,
  NO_SUCH_FILE,
  sftpCode,
  toStorageError
} from './storage-sftp';
import { UPLOAD_TEMP } from './storage-upload';

export class SftpRoot {
  readonly root: string;
  private realRoot: Promise<string> | null = null;

  constructor(root: string) {
    const trimmed = root.replace(/\/+$/, '');
    if (!root.startsWith('/')) {
      throw new StorageError('invalid', `"${root}" is not an absolute path`);
    }
    if (trimmed !== '') {
      checkRelativePath(trimmed.slice(1), false);
    }
    this.root = trimmed === '' ? '/' : trimmed;
  }

  abs(path: string): string {
    checkRelativePath(path);
    if (path === '') {
      return this.root;
    }
    return this.root === '/' ? `/${path}` : `${this.root}/${path}`;
  }

  /** The root's realpath; not_found with a sentence when the folder is missing. */
  rootReal(sftp: SFTPWrapper): Promise<string> {
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
  async inside(sftp: SFTPWrapper, path: string): Promise<boolean> {
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
  async lstat(sftp: SFTPWrapper, path: string): Promise<Stats | null> {
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

  async readdir(sftp: SFTPWrapper, dir: string): Promise<FileEntryWithStats[]> {
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

  /** `mkdir -p` below the root. */
  async mkdirIn(sftp: SFTPWrapper, path: string): Promise<void> {
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
}
