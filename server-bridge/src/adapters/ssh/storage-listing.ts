/** The order and cursors of a folder listing: folders first, then by name. */
import { StorageError } from '../../ports/storage';

/** Position in a listing: folders first, then by name (code units). */
export interface IListPosition {
  dir: boolean;
  name: string;
}

export function compare(a: IListPosition, b: IListPosition): number {
  if (a.dir !== b.dir) {
    return a.dir ? -1 : 1;
  }
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function encodeCursor(p: IListPosition): string {
  return Buffer.from(JSON.stringify([p.dir ? 1 : 0, p.name])).toString(
    'base64url'
  );
}

export function decodeCursor(cursor: string): IListPosition {
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
