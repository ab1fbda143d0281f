import type { TierConfig } from '../../src/config';
import {
  abortOrphanUploads,
  staticPrefix,
  type IMultipartSweepStore
} from '../../src/storage/orphan-uploads';

const tier = (name: string, bucket: string, prefix: string): TierConfig =>
  ({
    name,
    location: { s3: { store: 'demo', bucket, prefix } }
  }) as unknown as TierConfig;

function fakeStore(open: Record<string, { key: string; uploadId: string }[]>) {
  const aborted: string[] = [];
  const listed: string[] = [];
  const store: IMultipartSweepStore = {
    openMultipartUploads: async (bucket, prefix) => {
      listed.push(`${bucket}:${prefix}`);
      if (bucket === 'down') {
        throw new Error('connect ECONNREFUSED');
      }
      return open[bucket] ?? [];
    },
    abortMultipartUpload: async (bucket, key, uploadId) => {
      aborted.push(`${bucket}/${key}#${uploadId}`);
    }
  };
  return { store, aborted, listed };
}

const logger = { info: jest.fn(), warn: jest.fn() };

describe('abortOrphanUploads', () => {
  it('aborts the open uploads no live session owns, once per bucket and fixed prefix', async () => {
    const { store, aborted, listed } = fakeStore({
      archive: [
        { key: 'alice/a.bin', uploadId: 'dead' },
        { key: 'alice/b.bin', uploadId: 'session' }
      ]
    });
    const n = await abortOrphanUploads({
      tiers: [
        tier('archive', 'archive', '{user}/'),
        tier('archive-2', 'archive', '{user}/x/'),
        tier('data', 'data', 'shared/{group}/')
      ],
      stores: new Map([['demo', store]]),
      owned: id => id === 'session',
      logger,
      timeoutMs: 1000
    });
    expect(n).toBe(1);
    expect(aborted).toEqual(['archive/alice/a.bin#dead']);
    expect(listed).toEqual(['archive:', 'data:shared/']);
  });

  it('logs a store it cannot reach and goes on with the others', async () => {
    const { store, aborted } = fakeStore({
      up: [{ key: 'k', uploadId: 'u' }]
    });
    const warn = jest.fn();
    const n = await abortOrphanUploads({
      tiers: [tier('a', 'down', '{user}/'), tier('b', 'up', '{user}/')],
      stores: new Map([['demo', store]]),
      owned: () => false,
      logger: { info: jest.fn(), warn },
      timeoutMs: 1000
    });
    expect(n).toBe(1);
    expect(aborted).toEqual(['up/k#u']);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('takes the part of a prefix template before its first placeholder', () => {
    expect(staticPrefix('{user}/')).toBe('');
    expect(staticPrefix('courses/{group}/')).toBe('courses/');
    expect(staticPrefix('fixed/')).toBe('fixed/');
  });
});
