/** Online checks of the object stores (S3) and of the OpenStack cloud. */
import {
  HeadBucketCommand,
  ListBucketsCommand,
  S3Client
} from '@aws-sdk/client-s3';
import { keystoneFor } from '../adapters/openstack/keystone';
import type { BridgeConfig, OpenStackConfig, S3Config, Secret } from './index';
import {
  failed,
  networkReason,
  ok,
  type IOnlineOptions,
  type Probe,
  type IOnlineFinding
} from './online-findings';

interface IS3Failure {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** ListBuckets with the store's credentials, then HeadBucket of each tier's bucket. */
export async function checkS3(
  config: BridgeConfig,
  s: S3Config,
  i: number,
  { timeoutMs }: IOnlineOptions
): Probe {
  const client = new S3Client({
    endpoint: s.endpoint,
    region: s.region,
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: {
      accessKeyId: s.accessKeyId.reveal(),
      secretAccessKey: s.secretAccessKey.reveal()
    }
  });
  const within = () => ({ abortSignal: AbortSignal.timeout(timeoutMs) });
  try {
    try {
      await client.send(new ListBucketsCommand({}), within());
    } catch (e) {
      return [s3Failure(e, s, i, timeoutMs)];
    }
    const out = [
      ok('s3', `s3[${i}]`, `${s.name}: ${s.endpoint} accepts the credentials`)
    ];
    const tiers = config.storage.tiers.flatMap((t, j) =>
      's3' in t.location && t.location.s3.store === s.name
        ? [
            {
              bucket: t.location.s3.bucket,
              path: `storage.tiers[${j}].s3.bucket`
            }
          ]
        : []
    );
    for (const { bucket, path } of tiers) {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }), within());
      } catch (e) {
        const err = e as IS3Failure;
        const status = err.$metadata?.httpStatusCode;
        out.push(
          failed(
            's3',
            path,
            status === 404
              ? `${s.name} has no bucket "${bucket}"`
              : `${s.name}: cannot open bucket "${bucket}": ${err.name ?? status ?? err.message}`
          )
        );
      }
    }
    const missing = out.filter(f => f.status === 'error').length;
    if (tiers.length > 0 && missing === 0) {
      out.push(
        ok(
          's3',
          `s3[${i}]`,
          `${s.name}: buckets ${[...new Set(tiers.map(t => t.bucket))].join(', ')} exist`
        )
      );
    }
    return out;
  } finally {
    client.destroy();
  }
}

/** Where a secret came from, for messages (` (file:/etc/…)`); nothing for inline values. */
const from = (secret: Secret): string =>
  secret.source === 'value' ? '' : ` (${secret.source})`;

function s3Failure(
  e: unknown,
  s: S3Config,
  i: number,
  timeoutMs: number
): IOnlineFinding {
  const err = e as IS3Failure;
  const status = err.$metadata?.httpStatusCode;
  if (status === 403 || status === 401) {
    const which =
      err.name === 'InvalidAccessKeyId' ? 'accessKeyId' : 'secretAccessKey';
    return failed(
      's3',
      `s3[${i}].${which}`,
      `${s.name}: ${s.endpoint} refused the credentials (${err.name ?? status}): check accessKeyId${from(s.accessKeyId)} and secretAccessKey${from(s.secretAccessKey)}`
    );
  }
  const reason =
    status !== undefined
      ? `answered ${status} ${err.name ?? ''}`.trim()
      : networkReason(e, timeoutMs);
  return failed(
    's3',
    `s3[${i}].endpoint`,
    `${s.name}: cannot reach ${s.endpoint}: ${reason}`
  );
}

/** A Keystone token with the configured credentials and a compute endpoint in the region. */
export async function checkOpenStack(
  o: OpenStackConfig,
  { timeoutMs }: IOnlineOptions
): Probe {
  const keystone = keystoneFor(o, timeoutMs);
  const path = 'serving.providers.openstack';
  try {
    const compute = await keystone.endpoint('compute');
    return [
      ok(
        'openstack',
        `${path}.auth`,
        `${o.title}: Keystone at ${o.authUrl} issued a token; compute endpoint ${compute}`
      )
    ];
  } catch (e) {
    const kind = (e as { kind?: string }).kind;
    return [
      failed(
        'openstack',
        kind === 'auth'
          ? `${path}.auth`
          : kind === 'unreachable'
            ? `${path}.authUrl`
            : path,
        (e as Error).message
      )
    ];
  }
}
