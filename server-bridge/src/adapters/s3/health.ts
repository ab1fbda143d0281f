/**
 * S3 endpoint check: ListBuckets, then a small object written, read back and deleted in
 * the probe bucket (path-style), under a key no tier lists (`.hpc-bridge-health/`).
 */
import { randomUUID } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client
} from '@aws-sdk/client-s3';
import type { S3Config } from '../../config';
import type { IS3Port, IS3Probe, S3ProbeStep } from '../../ports/s3';

const PROBE_PREFIX = '.hpc-bridge-health/';

export class S3Endpoint implements IS3Port {
  private readonly client: S3Client;

  /** probeBucket: a bucket of this endpoint's tiers; without one only the listing is checked. */
  constructor(
    config: S3Config,
    private readonly probeBucket?: string
  ) {
    this.client = new S3Client({
      endpoint: config.endpoint,
      region: config.region,
      forcePathStyle: true,
      maxAttempts: 1,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      credentials: {
        accessKeyId: config.accessKeyId.reveal(),
        secretAccessKey: config.secretAccessKey.reveal()
      }
    });
  }

  async check(signal: AbortSignal): Promise<IS3Probe> {
    const options = { abortSignal: signal };
    await this.client.send(new ListBucketsCommand({}), options);
    const probe: IS3Probe = { checks: { list: 'ok' } };
    const bucket = this.probeBucket;
    if (bucket === undefined) {
      return probe;
    }
    const key = `${PROBE_PREFIX}${randomUUID()}`;
    const body = `hpc-bridge health ${key}`;
    const step = async (
      name: S3ProbeStep,
      run: () => Promise<void>
    ): Promise<boolean> => {
      try {
        await run();
        probe.checks[name] = 'ok';
        return true;
      } catch (e) {
        probe.checks[name] = 'down';
        probe.detail ??= `${name} of a small object in ${bucket} failed: ${describe(e)}`;
        return false;
      }
    };
    const written = await step('write', async () => {
      await this.client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }),
        options
      );
    });
    if (!written) {
      return probe;
    }
    await step('read', async () => {
      const got = await this.client.send(
        new GetObjectCommand({ Bucket: bucket, Key: key }),
        options
      );
      const text = await got.Body?.transformToString();
      if (text !== body) {
        throw new Error('the object read back differs from the one written');
      }
    });
    await step('delete', async () => {
      await this.client.send(
        new DeleteObjectCommand({ Bucket: bucket, Key: key }),
        options
      );
    });
    return probe;
  }

  close(): void {
    this.client.destroy();
  }
}

function describe(e: unknown): string {
  const error = e as {
    name?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const status = error.$metadata?.httpStatusCode;
  const text = error.message ?? String(e);
  return status === undefined ? text : `HTTP ${status}: ${text}`;
}
