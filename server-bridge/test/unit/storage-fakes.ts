/** An in-memory storage backend for unit tests of the storage service and routes. */
import { createHash } from 'node:crypto';
import { testStore } from './test-store';
import { Readable } from 'node:stream';
import type { BridgeConfig } from '../../src/config';
import {
  StorageError,
  type IDirectAccess,
  type IMultipartPart,
  type IStorageEntry,
  type IStoragePort
} from '../../src/ports/storage';
import { ByteCounter } from '../../src/adapters/byte-counter';
import { TierPorts } from '../../src/storage/ports';
import { StorageService } from '../../src/storage/service';
import { Store } from '../../src/store';
import { demoConfig } from './demo-config';

interface IObject {
  data: Buffer;
  modified: Date;
}

function clean(path: string): string {
  if (
    path !== '' &&
    (path.startsWith('/') ||
      path.split('/').some(s => s === '' || s === '.' || s === '..') ||
      path.includes('\0'))
  ) {
    throw new StorageError('invalid', `bad path ${path}`);
  }
  return path;
}

async function drain(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) {
    chunks.push(Buffer.from(c as Buffer));
  }
  return Buffer.concat(chunks);
}

/** One backend (a bucket or a file system); ports are opened on roots inside it. */
export class MemoryBackend {
  objects = new Map<string, IObject>();
  dirs = new Set<string>();
  uploads = new Map<
    string,
    { key: string; parts: Map<number, Buffer>; contentType?: string }
  >();
  /** Content types the objects were stored with, by key. */
  contentTypes = new Map<string, string>();
  /** Keys passed to the backend, to check that nothing leaves its root. */
  touched: string[] = [];
  writes = 0;
  nextUpload = 1;

  constructor(readonly direct: boolean) {}

  put(key: string, data: string | Buffer): void {
    this.objects.set(key, { data: Buffer.from(data), modified: new Date() });
  }

  port(root: string): IStoragePort {
    const key = (p: string): string => {
      const k = `${root.replace(/\/+$/, '')}/${clean(p)}`.replace(/\/$/, '');
      this.touched.push(k);
      return k;
    };
    const objects = this.objects;
    const dirs = this.dirs;
    const store = (k: string, data: Buffer): void => {
      this.writes += 1;
      this.put(k, data);
    };
    const isDir = (k: string): boolean =>
      this.dirs.has(k) ||
      [...this.objects.keys()].some(o => o.startsWith(`${k}/`));
    const entry = (k: string, rel: string): IStorageEntry | null => {
      const o = this.objects.get(k);
      const name = rel.slice(rel.lastIndexOf('/') + 1);
      if (o !== undefined) {
        return {
          name,
          path: rel,
          type: 'file',
          size: o.data.length,
          lastModified: o.modified
        };
      }
      return isDir(k)
        ? { name, path: rel, type: 'directory', size: null, lastModified: null }
        : null;
    };
    const children = (dir: string): IStorageEntry[] => {
      const k = key(dir);
      const names = new Map<string, IStorageEntry>();
      for (const o of [...this.objects.keys(), ...this.dirs]) {
        if (!o.startsWith(`${k}/`)) {
          continue;
        }
        const name = o.slice(k.length + 1).split('/')[0];
        const rel = dir === '' ? name : `${dir}/${name}`;
        const e = entry(`${k}/${name}`, rel);
        if (e !== null) {
          names.set(name, e);
        }
      }
      return [...names.values()].sort((a, b) =>
        a.type === b.type
          ? a.name.localeCompare(b.name)
          : a.type === 'directory'
            ? -1
            : 1
      );
    };
    const direct: IDirectAccess = {
      presignGet: async (p, s) =>
        `https://s3.example/${key(p)}?X-Amz-Expires=${s}`,
      createMultipart: async (p, options) => {
        const id = `mp${this.nextUpload++}`;
        this.uploads.set(id, {
          key: key(p),
          parts: new Map(),
          contentType: options?.contentType
        });
        return id;
      },
      presignPart: async (p, id, n, size, s) =>
        `https://s3.example/${key(p)}?uploadId=${id}&partNumber=${n}&content-length=${size}&X-Amz-Expires=${s}`,
      uploadPart: async (_p, id, n, body, size) => {
        const data = await drain(body);
        if (data.length !== size) {
          throw new StorageError('invalid', 'short part');
        }
        this.uploads.get(id)?.parts.set(n, data);
        return {
          partNumber: n,
          etag: `"${createHash('md5').update(data).digest('hex')}"`
        };
      },
      listParts: async (_p, id) =>
        [...(this.uploads.get(id)?.parts ?? new Map<number, Buffer>())].map(
          ([n, d]) => ({
            partNumber: n,
            etag: `"${createHash('md5').update(d).digest('hex')}"`,
            size: d.length
          })
        ),
      completeMultipart: async (_p, id, parts: readonly IMultipartPart[]) => {
        const u = this.uploads.get(id);
        if (u === undefined) {
          throw new StorageError('not_found', 'no upload');
        }
        this.put(
          u.key,
          Buffer.concat(
            parts.map(p => u.parts.get(p.partNumber) ?? Buffer.alloc(0))
          )
        );
        if (u.contentType !== undefined) {
          this.contentTypes.set(u.key, u.contentType);
        }
        this.uploads.delete(id);
      },
      abortMultipart: async (_p, id) => {
        this.uploads.delete(id);
      }
    };
    const port: IStoragePort = {
      async list(dir, limit, cursor) {
        const all = children(dir);
        const start = cursor === undefined ? 0 : Number(cursor);
        const entries = all.slice(start, start + limit);
        return {
          entries,
          nextCursor: start + limit < all.length ? String(start + limit) : null
        };
      },
      async stat(p) {
        return entry(key(p), p);
      },
      async read(p, range) {
        const o = objects.get(key(p));
        if (o === undefined) {
          return null;
        }
        const data =
          range === undefined
            ? o.data
            : o.data.subarray(range.start, range.end + 1);
        return {
          body: Readable.from([data]),
          size: o.data.length,
          lastModified: o.modified
        };
      },
      async write(p, body, options) {
        const k = key(p);
        // The real adapters' check: size and checksum before anything is stored.
        const counter = new ByteCounter(options.size, options);
        const data = await drain(body.pipe(counter));
        if (options.exclusive === true && objects.has(k)) {
          throw new StorageError('exists', `${p} already exists`);
        }
        store(k, data);
        return { size: data.length, sha256: counter.sha256() };
      },
      async mkdir(p) {
        dirs.add(key(p));
      },
      async rename(from, to) {
        const f = key(from);
        const t = key(to);
        for (const [k, o] of [...objects]) {
          if (k === f || k.startsWith(`${f}/`)) {
            objects.delete(k);
            objects.set(t + k.slice(f.length), o);
          }
        }
      },
      async delete(p) {
        const k = key(p);
        for (const o of [...objects.keys()]) {
          if (o === k || o.startsWith(`${k}/`)) {
            objects.delete(o);
          }
        }
        for (const d of [...dirs]) {
          if (d === k || d.startsWith(`${k}/`)) {
            dirs.delete(d);
          }
        }
      },
      async usage() {
        const k = key('');
        let n = 0;
        for (const [o, v] of objects) {
          if (o.startsWith(`${k}/`)) {
            n += v.data.length;
          }
        }
        return n;
      },
      async *walk(p) {
        const k = key(p);
        const base = root.replace(/\/+$/, '');
        for (const [o, v] of [...objects]) {
          if (o === k || o.startsWith(`${k}/`)) {
            const rel = o.slice(base.length + 1);
            yield {
              name: rel.slice(rel.lastIndexOf('/') + 1),
              path: rel,
              type: 'file' as const,
              size: v.data.length,
              lastModified: v.modified
            };
          }
        }
      },
      ...(this.direct ? { direct } : {})
    };
    return port;
  }
}

export const TIERS = [
  {
    name: 'scratch',
    title: 'Scratch',
    class: 'scratch',
    sftp: { cluster: 'demo', path: '/scratch/{user}' },
    quota: 1000
  },
  {
    name: 'project',
    title: 'Project',
    class: 'project',
    s3: { store: 'demo', bucket: 'hpc-project', prefix: '{group}/' },
    read: ['ml101', 'genomics', 'climate'],
    write: ['ml101', 'genomics'],
    quota: 500
  },
  {
    name: 'archive',
    title: 'Archive',
    class: 'archive',
    s3: { store: 'demo', bucket: 'hpc-archive', prefix: '{user}/' },
    retention: 'Kept for 10 years'
  },
  {
    name: 'outreach',
    title: 'Outreach',
    class: 'public',
    s3: { store: 'demo', bucket: 'hpc-public', prefix: '{user}/' }
  },
  {
    name: 'sensitive',
    title: 'Sensitive',
    class: 'sensitive',
    s3: { store: 'demo', bucket: 'hpc-sensitive', prefix: '{group}/' },
    read: ['medical'],
    write: ['medical']
  }
];

export function storageConfig(): BridgeConfig {
  return demoConfig(
    {
      s3: [
        {
          name: 'demo',
          endpoint: 'http://s3.invalid',
          publicEndpoint: 'http://s3.example',
          accessKeyId: { value: 'a' },
          secretAccessKey: { value: 's' }
        }
      ],
      storage: { linkBaseUrl: 'http://hub.example', tiers: TIERS }
    },
    { userMapping: { template: 'u-{user}' } }
  );
}

export interface IStorageFixture {
  config: BridgeConfig;
  store: Store;
  service: StorageService;
  /** Buckets by name; the cluster file system is `fs`. */
  buckets: Map<string, MemoryBackend>;
  fs: MemoryBackend;
  clock: { now: number };
}

/** `shared`: the backends of another fixture (a second bridge replica on the same storage). */
export function storageFixture(
  store: Store = testStore(),
  shared?: Pick<IStorageFixture, 'buckets' | 'fs'>
): IStorageFixture {
  const config = storageConfig();
  const buckets = shared?.buckets ?? new Map<string, MemoryBackend>();
  const fs = shared?.fs ?? new MemoryBackend(false);
  const clock = { now: Date.parse('2026-01-10T12:00:00Z') };
  const service = new StorageService({
    tiers: config.storage.tiers,
    store,
    now: () => clock.now,
    ports: new TierPorts({
      s3: new Map([
        [
          'demo',
          {
            browserReachable: true,
            open: (bucket: string, prefix: string) => {
              let b = buckets.get(bucket);
              if (b === undefined) {
                b = new MemoryBackend(true);
                buckets.set(bucket, b);
              }
              return b.port(prefix);
            }
          }
        ]
      ]),
      clusters: config.clusters,
      sftp: (_cluster, _user, root) => fs.port(root)
    })
  });
  return { config, store, service, buckets, fs, clock };
}

export function bucket(f: IStorageFixture, name: string): MemoryBackend {
  let b = f.buckets.get(name);
  if (b === undefined) {
    b = new MemoryBackend(true);
    f.buckets.set(name, b);
  }
  return b;
}

export const ALICE = { name: 'alice', groups: ['climate', 'medical', 'ml101'] };
export const BOB = { name: 'bob', groups: ['genomics', 'ml101'] };
export const CAROL = { name: 'carol', groups: ['ml101-instructors'] };
