/**
 * How replicas get a user's model file (`IModelPlacer`), read from its tier as the
 * endpoint's owner:
 * - `local`: copied into the bridge's model folder, named by the SHA-256 of its bytes, so
 *   a roll to a file already copied (the same version, or the same bytes elsewhere) reuses
 *   it. Owner-only modes; the files belong to the account replicas run as. The copy runs
 *   in the background (`begin`), one per file however many endpoints wait for it.
 * - `slurm`: a file on a tier that is a directory of the provider's cluster is used where
 *   it is (the job runs as the owner, who can read it); any other is copied through the
 *   owner's SSH session into the replica's working directory.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  chownSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync
} from 'node:fs';
import { extname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DomainError } from '../domain-error';
import type { IClusterAccess } from '../credentials/access';
import { baseName } from '../storage/paths';
import type { StorageService } from '../storage/service';
import type { IModelFile, IModelPlacer, ModelPlacement } from './ports';

type TierReads = Pick<StorageService, 'staging' | 'files'>;

export interface ILocalModelPlacerOptions {
  storage: TierReads;
  /** The folder of the copies (created 0700). */
  dir: string;
  /** Larger files are refused (the file may have grown since it was registered). */
  maxBytes: number;
  /** The account replicas run as, when it is not the bridge's: owns the copies. */
  account?: { uid: number; gid: number };
}

const SHA256 = /^[0-9a-f]{64}$/;

/** A failed copy is answered as failed this long (to every endpoint waiting on it). */
const FAILED_COPY_KEPT_MS = 30_000;

/** A copy into the model folder, running in the background; one per file version. */
interface IModelCopy {
  done: Promise<string>;
  bytes: number;
  of: number | null;
  error: Error | null;
  failedAt: number;
}

/** A file to place: the copy it gave before (if still there), or what a copy needs. */
interface ILookup {
  known: string | null;
  versionKey: string;
  extension: string;
  size: number | null;
}

export class LocalModelPlacer implements IModelPlacer {
  /** Copies in progress (or failed a moment ago), by the version key of their file. */
  private readonly copies = new Map<string, IModelCopy>();

  constructor(private readonly options: ILocalModelPlacerOptions) {}

  /** Waits for the copy (started now, or already running for the same file). */
  async place(file: IModelFile): Promise<string> {
    const found = await this.lookup(file);
    return found.known ?? this.copyOf(file, found).done;
  }

  /** The path when the file is in place; else the copy's progress (it runs on alone). */
  async begin(file: IModelFile): Promise<ModelPlacement> {
    const found = await this.lookup(file);
    if (found.known !== null) {
      return { path: found.known };
    }
    const copy = this.copyOf(file, found);
    if (copy.error !== null) {
      throw copy.error;
    }
    return { copying: { bytes: copy.bytes, of: copy.of } };
  }

  private async lookup(file: IModelFile): Promise<ILookup> {
    const { storage, dir } = this.options;
    const source = await storage.staging.source(
      file.owner,
      file.tier,
      file.path
    );
    if (source.folder) {
      throw new DomainError('bad_request', `${file.uri} is a folder`);
    }
    this.ensureDir();
    // The version (size, time, ETag) of the file at its place names the copy it gave.
    const versionKey = sha256(
      JSON.stringify([
        source.tier,
        source.scopeRoot,
        source.path,
        source.version
      ])
    );
    const seen = join(dir, `${versionKey}.version`);
    const known = existsSync(seen) ? readFileSync(seen, 'utf8').trim() : '';
    const extension = extname(file.path).replace(/[^A-Za-z0-9.]/g, '');
    return {
      known:
        SHA256.test(known) && existsSync(join(dir, known + extension))
          ? join(dir, known + extension)
          : null,
      versionKey,
      extension,
      size: source.version.size
    };
  }

  /** The copy of that version: the one running (or just failed), else a new one. */
  private copyOf(file: IModelFile, found: ILookup): IModelCopy {
    const running = this.copies.get(found.versionKey);
    if (
      running !== undefined &&
      (running.error === null ||
        Date.now() - running.failedAt < FAILED_COPY_KEPT_MS)
    ) {
      return running;
    }
    const copy: IModelCopy = {
      done: Promise.resolve(''),
      bytes: 0,
      of: found.size,
      error: null,
      failedAt: 0
    };
    copy.done = this.copyToFolder(file, found, copy);
    copy.done.then(
      () => this.copies.delete(found.versionKey),
      (e: unknown) => {
        copy.error = e instanceof Error ? e : new Error(String(e));
        copy.failedAt = Date.now();
      }
    );
    this.copies.set(found.versionKey, copy);
    return copy;
  }

  private async copyToFolder(
    file: IModelFile,
    found: ILookup,
    progress: { bytes: number }
  ): Promise<string> {
    const { dir } = this.options;
    const incoming = join(dir, `.incoming-${randomBytes(8).toString('hex')}`);
    try {
      const digest = await this.copy(file, incoming, progress);
      const target = join(dir, digest + found.extension);
      if (existsSync(target)) {
        rmSync(incoming, { force: true });
      } else {
        renameSync(incoming, target);
      }
      writeFileSync(join(dir, `${found.versionKey}.version`), digest, {
        mode: 0o600
      });
      return target;
    } finally {
      rmSync(incoming, { force: true });
    }
  }

  private ensureDir(): void {
    const { dir, account } = this.options;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (account !== undefined) {
      chownSync(dir, account.uid, account.gid);
    }
  }

  /** Streams the file to `to` (mode 0400), within maxBytes; answers its SHA-256. */
  private async copy(
    file: IModelFile,
    to: string,
    progress: { bytes: number }
  ): Promise<string> {
    const { storage, maxBytes, account } = this.options;
    const content = await storage.files.read(file.owner, file.tier, file.path);
    const hash = createHash('sha256');
    let bytes = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        if (bytes > maxBytes) {
          done(tooBig(file.uri, maxBytes));
          return;
        }
        hash.update(chunk);
        progress.bytes = bytes;
        done(null, chunk);
      }
    });
    await pipeline(
      content.body,
      count,
      createWriteStream(to, { flags: 'wx', mode: 0o400 })
    );
    if (account !== undefined) {
      chownSync(to, account.uid, account.gid);
    }
    return hash.digest('hex');
  }
}

export function tooBig(uri: string, maxBytes: number): DomainError {
  return new DomainError(
    'bad_request',
    `${uri} is larger than the ${maxBytes} bytes a user model may have (serving.userModels.maxBytes)`
  );
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface ISlurmModelPlacerOptions {
  storage: Pick<StorageService, 'staging'>;
  access: IClusterAccess;
  /** The cluster the slurm provider submits to. */
  cluster: string;
  /** Replica working directories, relative to the owner's home (as the provider's). */
  root: string;
}

export class SlurmModelPlacer implements IModelPlacer {
  constructor(private readonly options: ISlurmModelPlacerOptions) {}

  async place(
    file: IModelFile,
    replica: { replicaId: string }
  ): Promise<string> {
    const { storage, access, cluster, root } = this.options;
    const source = await storage.staging.source(
      file.owner,
      file.tier,
      file.path
    );
    if (source.folder) {
      throw new DomainError('bad_request', `${file.uri} is a folder`);
    }
    if (source.cluster?.name === cluster) {
      return source.cluster.path;
    }
    const name = baseName(source.path);
    return access.run(cluster, file.owner.name, async s => {
      const home = await s.files.home();
      const workdir = `${home.replace(/\/+$/, '')}/${root}/${replica.replicaId}`;
      await s.files.mkdirp(`${workdir}/model`);
      await storage.staging.copyIn(
        file.owner,
        source,
        s.storage(workdir),
        `model/${name}`
      );
      return `${workdir}/model/${name}`;
    });
  }
}
