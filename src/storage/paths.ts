/**
 * Path and file-type helpers of the tier drives. Paths inside a tier are
 * relative (`''` is the root, `data/run1.csv` a file), as in the contract.
 */

/** `'/a//b/'` → `'a/b'`. */
export function normalizePath(path: string): string {
  return path
    .split('/')
    .filter(part => part !== '')
    .join('/');
}

export function joinPath(dir: string, name: string): string {
  const base = normalizePath(dir);
  return base ? `${base}/${name}` : name;
}

export function baseName(path: string): string {
  const parts = normalizePath(path).split('/');
  return parts[parts.length - 1];
}

export function dirName(path: string): string {
  const parts = normalizePath(path).split('/');
  return parts.slice(0, -1).join('/');
}

/** `'run.tar.gz'` → `'.gz'`; `''` without an extension. */
export function extension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot).toLowerCase() : '';
}

const MIMETYPES: Record<string, string> = {
  '.ipynb': 'application/x-ipynb+json',
  '.json': 'application/json',
  '.geojson': 'application/geo+json',
  '.csv': 'text/csv',
  '.tsv': 'text/tab-separated-values',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.py': 'text/x-python',
  '.r': 'text/x-rsrc',
  '.sh': 'text/x-sh',
  '.yaml': 'text/x-yaml',
  '.yml': 'text/x-yaml',
  '.toml': 'text/plain',
  '.html': 'text/html',
  '.xml': 'application/xml',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.parquet': 'application/vnd.apache.parquet',
  '.h5': 'application/x-hdf5',
  '.nc': 'application/x-netcdf'
};

/** The mimetype JupyterLab expects for a file name (as Jupyter Server guesses it). */
export function mimetypeFor(name: string): string {
  return MIMETYPES[extension(name)] ?? 'application/octet-stream';
}

/** Whether a file of this mimetype is opened as text by default. */
export function isTextMimetype(mimetype: string): boolean {
  return (
    mimetype.startsWith('text/') ||
    /(json|xml|yaml|javascript)/.test(mimetype) ||
    mimetype === 'image/svg+xml'
  );
}

/**
 * The first name not in `taken`: `stem + ext`, then `stem + 1 + ext`, … (as
 * Jupyter Server names untitled files and copies).
 */
export function uniqueName(
  taken: ReadonlySet<string>,
  stem: string,
  ext: string,
  separator = ''
): string {
  for (let n = 0; ; n++) {
    const name = n === 0 ? `${stem}${ext}` : `${stem}${separator}${n}${ext}`;
    if (!taken.has(name)) {
      return name;
    }
  }
}

/** A tier path as its drive writes it: `('scratch', 'data/a.csv')` → `'scratch:data/a.csv'`. */
export function drivePath(tier: string, path: string): string {
  return `${tier}:${normalizePath(path)}`;
}

/**
 * The path inside `tier` of a path of its drive (`'scratch:data/a.csv'` →
 * `'data/a.csv'`); `null` for a path of another drive or of the server's files.
 */
export function tierPathOf(tier: string, path: string): string | null {
  // As ContentsManager reads it: the drive is the first component's part before ':'.
  const firstSlash = path.indexOf('/');
  const first = firstSlash === -1 ? path : path.slice(0, firstSlash);
  const colon = first.indexOf(':');
  if (colon === -1 || first.slice(0, colon) !== tier) {
    return null;
  }
  return normalizePath(path.slice(colon + 1));
}
