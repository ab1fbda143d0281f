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
    `The S3 store could not be reached for ${what}: ${detail}`
  );
}
