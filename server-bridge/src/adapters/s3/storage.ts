/**
 * The S3 storage adapter: one bucket + prefix per port. Folders are key prefixes (with an
 * optional zero-byte `folder/` marker from mkdir), uploads stream through lib-storage's
 * multipart upload (aborted on failure, so nothing half-written becomes visible), and
 * presigned URLs are signed for the endpoint browsers reach.
 */
import {
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
  S3Client
} from '@aws-sdk/client-s3';
import type { S3Config } from '../../config';
import { StorageError, type IStoragePort } from '../../ports/storage';
import { checkRelativePath } from '../storage-paths';
import { S3Storage } from './port';

export interface IS3StoreOptions {
  /** Part size of streamed uploads (bytes buffered per part); default 8 MiB. */
  partSize?: number;
  /** Parts uploaded at once; at most `partSize * queueSize` bytes are buffered. */
  queueSize?: number;
  /**
   * Objects larger than this are copied part by part (UploadPartCopy): CopyObject
   * stops at 5 GiB. Default 5 GiB; tests lower it.
   */
  multipartCopyThreshold?: number;
  /** Part size of such copies; default 512 MiB. */
  copyPartSize?: number;
  /** Files up to this size are written in one streamed PUT; default 5 GiB (S3's limit). */
  singlePutMax?: number;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** DeleteObjects takes at most 1000 keys. */
export class S3Store {
  private readonly client: S3Client;
  /** Signs URLs for `publicEndpoint` (browsers), else the same as `client`. */
  private readonly presigner: S3Client;
  private readonly options: Required<IS3StoreOptions>;

  constructor(
    readonly config: S3Config,
    options: IS3StoreOptions = {}
  ) {
    this.client = makeClient(config, config.endpoint);
    this.presigner =
      config.publicEndpoint === undefined ||
      config.publicEndpoint === config.endpoint
        ? this.client
        : makeClient(config, config.publicEndpoint);
    this.options = {
      partSize: options.partSize ?? 8 * MiB,
      queueSize: options.queueSize ?? 3,
      multipartCopyThreshold: options.multipartCopyThreshold ?? 5 * GiB,
      copyPartSize: options.copyPartSize ?? 512 * MiB,
      singlePutMax: options.singlePutMax ?? 5 * GiB
    };
  }

  /** A port on `s3://bucket/prefix` (`prefix` is `''` or ends with `/`; one is added). */
  open(bucket: string, prefix: string): IStoragePort {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new StorageError('invalid', `"${bucket}" is not an S3 bucket name`);
    }
    const root = prefix.replace(/\/+$/, '');
    checkRelativePath(root);
    return new S3Storage(
      this.client,
      this.presigner,
      bucket,
      root === '' ? '' : `${root}/`,
      this.options
    );
  }

  /** The multipart uploads open under `prefix` in `bucket`, every page. */
  async openMultipartUploads(
    bucket: string,
    prefix: string,
    signal: AbortSignal
  ): Promise<{ key: string; uploadId: string }[]> {
    const found: { key: string; uploadId: string }[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker
        }),
        { abortSignal: signal }
      );
      for (const u of page.Uploads ?? []) {
        if (u.Key !== undefined && u.UploadId !== undefined) {
          found.push({ key: u.Key, uploadId: u.UploadId });
        }
      }
      if (page.IsTruncated !== true) {
        return found;
      }
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  async abortMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
    signal: AbortSignal
  ): Promise<void> {
    await this.client.send(
      new AbortMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId
      }),
      { abortSignal: signal }
    );
  }

  close(): void {
    this.client.destroy();
    if (this.presigner !== this.client) {
      this.presigner.destroy();
    }
  }
}

function makeClient(config: S3Config, endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: config.region,
    forcePathStyle: true,
    credentials: {
      accessKeyId: config.accessKeyId.reveal(),
      secretAccessKey: config.secretAccessKey.reveal()
    },
    // Swift's s3api knows Content-MD5, not the SDK's default CRC32 trailers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED'
  });
}
