/**
 * Paths inside a storage port's root, checked again by the adapters even though the
 * contract's `TierPathSchema` already did: a port must never be talked out of its root.
 */
import { StorageError } from '../ports/storage';

/** Throws `invalid` unless `path` is `''` (when allowed) or a clean relative path. */
export function checkRelativePath(path: string, allowRoot = true): string {
  if (path === '') {
    if (!allowRoot) {
      throw new StorageError('invalid', 'this needs a file or folder path');
    }
    return path;
  }
  const clean =
    !path.startsWith('/') &&
    !/[\\\0-\x1f\x7f]/.test(path) &&
    path.split('/').every(s => s !== '' && s !== '.' && s !== '..');
  if (!clean) {
    throw new StorageError(
      'invalid',
      `"${printable(path)}" is not a path inside the tier`
    );
  }
  return path;
}

/** The last segment (`''` for the root). */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The folder that holds `path` (`''` for a top-level item). */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

export function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/** True when `inner` is `outer` or lies inside it. */
export function isSameOrInside(outer: string, inner: string): boolean {
  return inner === outer || inner.startsWith(`${outer}/`);
}

function printable(path: string): string {
  return path.replace(/[\0-\x1f\x7f]/g, '?');
}
