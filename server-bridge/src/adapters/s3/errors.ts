/** S3 SDK errors as `StorageError`s the storage service can answer with. */
import { StorageError } from '../../ports/storage';

interface IS3ErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound', 'NoSuchUpload']);
const DENIED = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'Forbidden'
]);
const INVALID = new Set([
  'InvalidRange',
  'InvalidPart',
  'InvalidPartOrder',
  'EntityTooSmall',
  'EntityTooLarge',
  'BadDigest',
  'InvalidDigest',
  'InvalidArgument',
  'InvalidRequest'
]);

/** `what` names the object for the sentence (`data/x.csv in s3://bucket/prefix/`). */
export function toStorageError(
  e: unknown,
  what: string,
  bucket: string
): StorageError {
  if (e instanceof StorageError) {
    return e;
  }
  const err = (e ?? {}) as IS3ErrorShape;
  const name = err.name ?? err.code ?? '';
  const status = err.$metadata?.httpStatusCode;
  const detail = err.message ?? name;
  if (name === 'NoSuchBucket') {
    return new StorageError(
      'unavailable',
      `The bucket ${bucket} does not exist on the S3 store`
    );
  }
  if (NOT_FOUND.has(name) || status === 404) {
    return new StorageError('not_found', `Not found: ${what}`);
  }
  if (DENIED.has(name) || status === 403) {
    return new StorageError(
      'denied',
      `S3 refused access to ${what}: ${detail}`
    );
  }
  if (INVALID.has(name) || status === 400 || status === 416) {
    return new StorageError('invalid', `S3 refused ${what}: ${detail}`);
  }
  return new StorageError(
    'unavailable',
    `The S3 store did not answer for ${what} (${unavailableReason(err, status)}). Nothing was changed; try again in a minute.`
  );
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'it refused the connection',
  ECONNRESET: 'it dropped the connection',
  ETIMEDOUT: 'it did not answer in time',
  ENOTFOUND: 'its host name is unknown',
  EHOSTUNREACH: 'its host cannot be reached',
  EPIPE: 'it dropped the connection'
};

/** One clause for the sentence: no socket error codes, no multi-line server text. */
function unavailableReason(err: IS3ErrorShape, status?: number): string {
  const code =
    err.code ?? /\b(E[A-Z]{4,})\b/.exec(err.message ?? '')?.[1] ?? '';
  if (code in NETWORK_REASONS) {
    return NETWORK_REASONS[code];
  }
  if (status !== undefined) {
    return `it answered HTTP ${status}`;
  }
  const first = (err.message ?? err.name ?? 'no answer').split('\n')[0];
  return first.replace(/\.$/, '').slice(0, 200);
}
