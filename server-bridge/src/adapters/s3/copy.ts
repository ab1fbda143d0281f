/** Copies inside a bucket: a file, or a folder's objects a few at a time; large objects part by part. */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand
} from '@aws-sdk/client-s3';
import { StorageError, type IMultipartPart } from '../../ports/storage';
import { checkRelativePath, isSameOrInside } from '../storage-paths';
import type { S3Storage } from './port';
import type { IS3StoreOptions } from './storage';

/** Objects copied at once when a folder is renamed or copied. */
const COPY_CONCURRENCY = 8;

type CopyOptions = Required<
  Pick<IS3StoreOptions, 'multipartCopyThreshold' | 'copyPartSize'>
>;

/** Copies a file or a whole folder; `exclusive` refuses an existing target. */
export async function copyTree(
  port: S3Storage,
  from: string,
  to: string,
  exclusive: boolean,
  options: CopyOptions
): Promise<void> {
  checkRelativePath(from, false);
  checkRelativePath(to, false);
  if (isSameOrInside(from, to)) {
    throw new StorageError(
      'invalid',
      `Cannot move or copy ${from} into itself (${to})`
    );
  }
  const source = await port.stat(from);
  if (source === null) {
    throw new StorageError('not_found', `There is no file or folder ${from}`);
  }
  if (exclusive && (await port.stat(to)) !== null) {
    throw new StorageError('exists', `${to} already exists`);
  }
  if (source.type === 'file') {
    await copyObject(
      port,
      port.fileKey(from),
      port.fileKey(to),
      source.size ?? 0,
      options
    );
    return;
  }
  const fromPrefix = port.folderPrefix(from);
  const toPrefix = port.folderPrefix(to);
  for await (const page of port.pages(fromPrefix)) {
    await inBatches(page, COPY_CONCURRENCY, o =>
      copyObject(
        port,
        o.Key ?? '',
        toPrefix + (o.Key ?? '').slice(fromPrefix.length),
        o.Size ?? 0,
        options
      )
    );
  }
}

async function copyObject(
  port: S3Storage,
  fromKey: string,
  toKey: string,
  size: number,
  options: CopyOptions
): Promise<void> {
  const what = port.describe(port.pathOf(fromKey));
  if (size <= options.multipartCopyThreshold) {
    await port.send(what, () =>
      port.s3.send(
        new CopyObjectCommand({
          Bucket: port.bucketName,
          Key: toKey,
          CopySource: copySource(port.bucketName, fromKey)
        })
      )
    );
    return;
  }
  const { UploadId } = await port.send(what, () =>
    port.s3.send(
      new CreateMultipartUploadCommand({ Bucket: port.bucketName, Key: toKey })
    )
  );
  try {
    const parts: IMultipartPart[] = [];
    const partSize = options.copyPartSize;
    for (let start = 0, n = 1; start < size; start += partSize, n++) {
      const end = Math.min(size, start + partSize) - 1;
      const out = await port.send(what, () =>
        port.s3.send(
          new UploadPartCopyCommand({
            Bucket: port.bucketName,
            Key: toKey,
            UploadId,
            PartNumber: n,
            CopySource: copySource(port.bucketName, fromKey),
            CopySourceRange: `bytes=${start}-${end}`
          })
        )
      );
      parts.push({ partNumber: n, etag: out.CopyPartResult?.ETag ?? '' });
    }
    await port.send(what, () =>
      port.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: port.bucketName,
          Key: toKey,
          UploadId,
          MultipartUpload: {
            Parts: parts.map(p => ({
              PartNumber: p.partNumber,
              ETag: p.etag
            }))
          }
        })
      )
    );
  } catch (e) {
    await port.s3
      .send(
        new AbortMultipartUploadCommand({
          Bucket: port.bucketName,
          Key: toKey,
          UploadId
        })
      )
      .catch(() => undefined);
    throw e;
  }
}

function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** Runs `fn` over `items`, at most `concurrency` at once; the first failure wins. */
async function inBatches<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<void>
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, worker)
  );
}
