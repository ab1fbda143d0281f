/** S3 endpoint check: ListBuckets with the configured credentials (path-style). */
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Config } from '../../config';
import type { IS3Port } from '../../ports/s3';

export class S3Endpoint implements IS3Port {
  private readonly client: S3Client;

  constructor(config: S3Config) {
    this.client = new S3Client({
      endpoint: config.endpoint,
      region: config.region,
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: {
        accessKeyId: config.accessKeyId.reveal(),
        secretAccessKey: config.secretAccessKey.reveal()
      }
    });
  }

  async check(signal: AbortSignal): Promise<void> {
    await this.client.send(new ListBucketsCommand({}), { abortSignal: signal });
  }

  close(): void {
    this.client.destroy();
  }
}
