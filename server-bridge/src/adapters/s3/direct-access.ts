/** Browser-direct transfers: presigned downloads and multipart uploads part by part. */
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  UploadPartCommand
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  StorageError,
  type IDirectAccess,
  type IMultipartPart
} from '../../ports/storage';
import { ByteCounter } from '../byte-counter';
import type { S3Storage } from './port';

export class S3DirectAccess implements IDirectAccess {
  constructor(private readonly port: S3Storage) {}

  private get bucket(): string {
    return this.port.bucketName;
  }

  presignGet(
    path: string,
    expiresInSeconds: number,
    options: { downloadName?: string } = {}
  ): Promise<string> {
    return getSignedUrl(
      this.port.signer,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: this.port.fileKey(path),
        ResponseContentDisposition:
          options.downloadName === undefined
            ? undefined
            : attachment(options.downloadName)
      }),
      { expiresIn: expiresInSeconds }
    );
  }

  async createMultipart(
    path: string,
    options: { contentType?: string } = {}
  ): Promise<string> {
    const out = await this.port.send(path, () =>
      this.port.s3.send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.port.fileKey(path),
          // Without it Swift stores the object as application/xml.
          ContentType: options.contentType ?? 'application/octet-stream'
        })
      )
    );
    if (out.UploadId === undefined) {
      throw new StorageError('unavailable', 'S3 did not return an upload id');
    }
    return out.UploadId;
  }

  /**
   * Content-Length is one of the URL's signed headers (X-Amz-SignedHeaders:
   * content-length;host), so S3 refuses a body of any other length.
   */
  presignPart(
    path: string,
    uploadId: string,
    partNumber: number,
    size: number,
    expiresInSeconds: number
  ): Promise<string> {
    return getSignedUrl(
      this.port.signer,
      new UploadPartCommand({
        Bucket: this.bucket,
        Key: this.port.fileKey(path),
        UploadId: uploadId,
        PartNumber: partNumber,
        ContentLength: size
      }),
      {
        expiresIn: expiresInSeconds,
        signableHeaders: new Set(['content-length'])
      }
    );
  }

  async uploadPart(
    path: string,
    uploadId: string,
    partNumber: number,
    body: Readable,
    size: number
  ): Promise<IMultipartPart> {
    const counter = new ByteCounter(size);
    // The SDK pipes the body into the request, which would wait for the missing bytes.
    const request = new AbortController();
    let failure: unknown = null;
    counter.on('error', e => {
      failure = e;
      request.abort();
    });
    body.on('error', e => counter.destroy(e));
    body.on('close', () => {
      if (!body.readableEnded) {
        counter.destroy(
          new StorageError(
            'invalid',
            `part ${partNumber} ended after ${counter.bytes} of ${size} bytes`
          )
        );
      }
    });
    body.pipe(counter);
    try {
      const out = await this.port.send(`part ${partNumber} of ${path}`, () =>
        this.port.s3.send(
          new UploadPartCommand({
            Bucket: this.bucket,
            Key: this.port.fileKey(path),
            UploadId: uploadId,
            PartNumber: partNumber,
            Body: counter,
            ContentLength: size
          }),
          { abortSignal: request.signal }
        )
      );
      return { partNumber, etag: out.ETag ?? '' };
    } catch (e) {
      body.unpipe(counter);
      body.resume();
      throw failure ?? e;
    }
  }

  async listParts(
    path: string,
    uploadId: string
  ): Promise<(IMultipartPart & { size: number })[]> {
    const parts: (IMultipartPart & { size: number })[] = [];
    let marker: string | undefined;
    do {
      const out = await this.port.send(path, () =>
        this.port.s3.send(
          new ListPartsCommand({
            Bucket: this.bucket,
            Key: this.port.fileKey(path),
            UploadId: uploadId,
            PartNumberMarker: marker
          })
        )
      );
      for (const p of out.Parts ?? []) {
        parts.push({
          partNumber: p.PartNumber ?? 0,
          etag: p.ETag ?? '',
          size: p.Size ?? 0
        });
      }
      marker = out.IsTruncated ? out.NextPartNumberMarker : undefined;
    } while (marker !== undefined);
    return parts;
  }

  async completeMultipart(
    path: string,
    uploadId: string,
    parts: readonly IMultipartPart[]
  ): Promise<void> {
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    await this.port.send(path, () =>
      this.port.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.port.fileKey(path),
          UploadId: uploadId,
          MultipartUpload: {
            Parts: sorted.map(p => ({ PartNumber: p.partNumber, ETag: p.etag }))
          }
        })
      )
    );
  }

  async abortMultipart(path: string, uploadId: string): Promise<void> {
    await this.port.send(path, () =>
      this.port.s3.send(
        new AbortMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.port.fileKey(path),
          UploadId: uploadId
        })
      )
    );
  }
}

/** `Content-Disposition` for a download, with an ASCII fallback and the UTF-8 name. */
function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
