/**
 * Multipart uploads that a bridge process left open in S3 when it died mid-upload (a
 * streamed PUT, or a session nobody completes): invisible in listings, but they hold
 * storage until aborted. Run once before the bridge listens, so that every upload still
 * open under a tier's prefix belongs to a dead process, unless an unexpired session in
 * the store owns it (a browser may go on with a direct upload across a restart).
 */
import type { TierConfig } from '../config';

export interface IMultipartSweepStore {
  openMultipartUploads(
    bucket: string,
    prefix: string,
    signal: AbortSignal
  ): Promise<{ key: string; uploadId: string }[]>;
  abortMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
    signal: AbortSignal
  ): Promise<void>;
}

export interface IOrphanUploadSweep {
  tiers: readonly TierConfig[];
  stores: ReadonlyMap<string, IMultipartSweepStore>;
  /** Whether a live upload session owns this S3 upload id. */
  owned: (s3UploadId: string) => boolean;
  logger: {
    info: (obj: object, msg: string) => void;
    warn: (obj: object, msg: string) => void;
  };
  /** The whole sweep gives up after this long (S3 may be down at start). */
  timeoutMs: number;
}

/** The fixed part of a tier's prefix template (before its first placeholder). */
export function staticPrefix(template: string): string {
  const brace = template.indexOf('{');
  return brace < 0 ? template : template.slice(0, brace);
}

/** Aborts the orphans; resolves with how many, never throws (problems are logged). */
export async function abortOrphanUploads(
  sweep: IOrphanUploadSweep
): Promise<number> {
  const signal = AbortSignal.timeout(sweep.timeoutMs);
  const scopes = new Map<
    string,
    { store: string; bucket: string; prefix: string }
  >();
  for (const tier of sweep.tiers) {
    if ('s3' in tier.location) {
      const { store, bucket, prefix } = tier.location.s3;
      const fixed = staticPrefix(prefix);
      scopes.set(`${store}\0${bucket}\0${fixed}`, {
        store,
        bucket,
        prefix: fixed
      });
    }
  }
  let aborted = 0;
  for (const scope of scopes.values()) {
    const store = sweep.stores.get(scope.store);
    if (store === undefined) {
      continue;
    }
    try {
      for (const u of await store.openMultipartUploads(
        scope.bucket,
        scope.prefix,
        signal
      )) {
        if (!sweep.owned(u.uploadId)) {
          await store.abortMultipartUpload(
            scope.bucket,
            u.key,
            u.uploadId,
            signal
          );
          aborted += 1;
        }
      }
    } catch (e) {
      sweep.logger.warn(
        { bucket: scope.bucket, err: (e as Error).message },
        'cannot sweep interrupted uploads (next start tries again)'
      );
    }
  }
  if (aborted > 0) {
    sweep.logger.info(
      { aborted },
      'aborted uploads interrupted by a previous bridge process'
    );
  }
  return aborted;
}
