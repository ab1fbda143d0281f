/**
 * Paths inside a tier. The contract's schemas validate every request; this module checks
 * again right before a path becomes an S3 key or a cluster path (defence in depth), and
 * refuses encodings that survive one round of URL decoding (`%2e%2e`).
 */
import { TierPathSchema } from '../contract';
import { DomainError } from '../domain-error';

/** Throws 400 unless `path` is a relative path inside a tier (`''` = root). */
export function checkTierPath(path: string): string {
  if (
    !TierPathSchema.safeParse(path).success ||
    /%(?:2e|2f|5c|00)/i.test(path)
  ) {
    throw new DomainError(
      'bad_request',
      `Not a path inside the tier: ${JSON.stringify(path.slice(0, 200))}`
    );
  }
  return path;
}

export function joinPath(dir: string, name: string): string {
  if (dir === '') {
    return name;
  }
  return name === '' ? dir : `${dir}/${name}`;
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i === -1 ? '' : path.slice(0, i);
}

/** True when `inner` is `outer` or lies below it. */
export function isWithin(outer: string, inner: string): boolean {
  return outer === '' || inner === outer || inner.startsWith(`${outer}/`);
}

const TYPES: Record<string, string> = {
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  txt: 'text/plain',
  md: 'text/markdown',
  log: 'text/plain',
  py: 'text/x-python',
  json: 'application/json',
  ipynb: 'application/x-ipynb+json',
  yaml: 'application/yaml',
  yml: 'application/yaml',
  html: 'text/html',
  xml: 'application/xml',
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  webp: 'image/webp',
  zip: 'application/zip',
  gz: 'application/gzip',
  tar: 'application/x-tar',
  parquet: 'application/vnd.apache.parquet',
  h5: 'application/x-hdf5',
  nc: 'application/x-netcdf'
};

/** Content-Type from the file's extension; unknown → application/octet-stream. */
export function contentTypeOf(path: string): string {
  const name = baseName(path);
  const dot = name.lastIndexOf('.');
  const ext = dot <= 0 ? '' : name.slice(dot + 1).toLowerCase();
  return TYPES[ext] ?? 'application/octet-stream';
}

/** `attachment; filename="…"; filename*=UTF-8''…` with a safe ASCII fallback. */
export function contentDisposition(
  path: string,
  kind: 'attachment' | 'inline' = 'attachment'
): string {
  const name = baseName(path);
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
