/**
 * Multipart upload sessions on S3 tiers. `direct`: the browser PUTs presigned part URLs
 * to S3 itself, each URL signed with its part's length; `bridge`: it PUTs the parts here
 * and they stream on. A session reserves its declared size against the quota until it
 * is completed, aborted or swept after expiry. Complete checks the parts S3 holds
 * (count, sizes, the client's ETags) against the declared size and aborts on any
 * mismatch, so nothing partial ever becomes visible.
 */
import type { Readable } from 'node:stream';
import type {
  FileEntry,
  OpenUpload,
  UploadComplete,
  UploadSession,
  UploadStart
} from '../contract';
import { DomainError } from '../domain-error';
import {
  StorageError,
  type IDirectAccess,
  type IMultipartPart
} from '../ports/storage';
import type { StorageAction } from './audit';
import type { ILocated, StorageCore } from './core';
import { fileEntryOf } from './files';
import { contentTypeOf } from './paths';
import { formatBytes } from './quota';
import {
  randomId,
  type IUploadRecord,
  type UploadTable
} from './repository/records';
import { isGroupTier, type IStorageUser } from './tiers';

const MIB = 1024 * 1024;
const MIN_PART = 16 * MIB;
const MAX_PARTS = 10_000;
/** How long a session and its presigned part URLs stay valid. */
const SESSION_SECONDS = 6 * 3600;

/** Equal parts of at least 16 MiB (whole MiB), at most 10,000 of them. */
export function partLayout(size: number): {
  partSize: number;
  partCount: number;
} {
  const partSize = Math.max(MIN_PART, Math.ceil(size / MAX_PARTS / MIB) * MIB);
  return { partSize, partCount: Math.max(1, Math.ceil(size / partSize)) };
}

/** The size part `n` (1-based) must have. */
export function partSizeOf(
  u: Pick<IUploadRecord, 'size' | 'partSize' | 'partCount'>,
  n: number
): number {
  return n < u.partCount ? u.partSize : u.size - u.partSize * (u.partCount - 1);
}

function unquote(etag: string): string {
  return etag.replace(/^W\//, '').replace(/"/g, '');
}

/** The caller's upload session `uploadId` on a tier. */
interface IUploadRef {
  user: IStorageUser;
  tierName: string;
  uploadId: string;
}

export class StorageUploads {
  constructor(
    private readonly core: StorageCore,
    private readonly table: UploadTable
  ) {}

  async start(
    user: IStorageUser,
    tierName: string,
    request: Required<Pick<UploadStart, 'path' | 'size'>> &
      Pick<UploadStart, 'overwrite' | 'direct'>
  ): Promise<UploadSession> {
    return this.core.run(
      user,
      tierName,
      'upload',
      request.path,
      async tier => {
        const located = this.core.locate(user, tier, request.path, 'write', {
          item: true
        });
        const direct = this.directOf(located);
        const existing = await located.port.stat(located.rest);
        if (existing?.type === 'directory') {
          throw new DomainError(
            'conflict',
            `${tier.name}:${request.path} is a folder`
          );
        }
        if (existing !== null && request.overwrite === false) {
          throw new DomainError(
            'conflict',
            `${tier.name}:${request.path} already exists`
          );
        }
        const { partSize, partCount } = partLayout(request.size);
        const mode =
          request.direct !== false && this.core.ports.directUpload(tier)
            ? 'direct'
            : 'bridge';
        const now = this.core.now();
        const id = randomId();
        const expiresAt = now + SESSION_SECONDS * 1000;
        // The parts occupy the store before they become the file: reserve them whole.
        const reservation = await this.core.reserve(located, request.size, {
          id,
          replaced: existing?.size ?? 0,
          expiresAt
        });
        try {
          const s3UploadId = await direct.createMultipart(located.rest, {
            contentType: contentTypeOf(request.path)
          });
          const record: IUploadRecord = {
            id,
            tier: tier.name,
            owner: user.name,
            path: request.path,
            s3UploadId,
            mode,
            size: request.size,
            partSize,
            partCount,
            overwrite: request.overwrite !== false,
            createdAt: new Date(now).toISOString(),
            expiresAt: new Date(expiresAt).toISOString()
          };
          this.table.insert(record);
          const parts =
            mode === 'direct'
              ? await Promise.all(
                  Array.from({ length: partCount }, async (_, i) => ({
                    partNumber: i + 1,
                    url: await direct.presignPart(
                      located.rest,
                      s3UploadId,
                      i + 1,
                      partSizeOf(record, i + 1),
                      SESSION_SECONDS
                    )
                  }))
                )
              : [];
          return {
            uploadId: record.id,
            mode,
            partSize,
            partCount,
            parts,
            expiresAt: record.expiresAt
          };
        } catch (e) {
          this.table.delete(id);
          reservation.release();
          throw e;
        }
      },
      s => ({ size: request.size, mode: s.mode, parts: s.partCount })
    );
  }

  /** The user's sessions on a tier that have not expired, oldest first. */
  list(user: IStorageUser, tierName: string): OpenUpload[] {
    this.core.tier(user, tierName);
    return this.table
      .open(user.name, tierName, new Date(this.core.now()).toISOString())
      .map(u => ({
        uploadId: u.id,
        path: u.path,
        mode: u.mode,
        size: u.size,
        partCount: u.partCount,
        createdAt: u.createdAt,
        expiresAt: u.expiresAt
      }));
  }

  /** Bridge mode: one part, streamed on to S3. Its size must match the layout. */
  async putPart(
    user: IStorageUser,
    tierName: string,
    uploadId: string,
    partNumber: number,
    body: Readable,
    size: number
  ): Promise<IMultipartPart> {
    return this.inSession(
      { user, tierName, uploadId },
      'upload',
      async (session, located) => {
        if (partNumber > session.partCount) {
          throw new DomainError(
            'bad_request',
            `This upload has ${session.partCount} parts; there is no part ${partNumber}`
          );
        }
        const expected = partSizeOf(session, partNumber);
        if (size !== expected) {
          throw new DomainError(
            'bad_request',
            `Part ${partNumber} must be ${expected} bytes, not ${size}`
          );
        }
        return this.directOf(located).uploadPart(
          located.rest,
          session.s3UploadId,
          partNumber,
          body,
          size
        );
      },
      () => ({ part: partNumber, size })
    );
  }

  async complete(
    user: IStorageUser,
    tierName: string,
    uploadId: string,
    request: UploadComplete
  ): Promise<FileEntry> {
    return this.inSession(
      { user, tierName, uploadId },
      'write',
      async (session, located) => {
        const direct = this.directOf(located);
        const held = await direct.listParts(located.rest, session.s3UploadId);
        const total = held.reduce((n, p) => n + p.size, 0);
        const reserved = this.core.reservations.bytesOf(session.id);
        if (
          located.tier.quota !== undefined &&
          (reserved === undefined || total > reserved)
        ) {
          await this.discard(session, located);
          throw new DomainError(
            'quota_exceeded',
            `The parts hold ${formatBytes(total)}, more than the ${formatBytes(reserved ?? 0)} this upload reserved against the quota; the upload was aborted and nothing was written`,
            { reservedBytes: reserved ?? 0, requestedBytes: total }
          );
        }
        const problem = this.mismatch(session, held, request.parts ?? []);
        if (problem !== null) {
          await this.discard(session, located);
          throw new DomainError(
            'bad_request',
            `${problem}; the upload was aborted and nothing was written`
          );
        }
        const claim = this.core.claim(located);
        let replaced: number;
        try {
          const existing = await located.port.stat(located.rest);
          if (
            existing?.type === 'directory' ||
            (existing !== null && !session.overwrite)
          ) {
            await this.discard(session, located);
            throw new DomainError(
              'conflict',
              `${located.tier.name}:${session.path} ${existing.type === 'directory' ? 'is a folder' : 'was created meanwhile'}; the upload was aborted and nothing was written`
            );
          }
          replaced = existing?.size ?? 0;
          await direct.completeMultipart(
            located.rest,
            session.s3UploadId,
            [...held]
              .sort((a, b) => a.partNumber - b.partNumber)
              .map(p => ({ partNumber: p.partNumber, etag: p.etag }))
          );
          this.table.delete(session.id);
          this.core.settle(located, total - replaced);
          this.core.reservations.release(session.id);
        } finally {
          claim.release();
        }
        const entry = await located.port.stat(located.rest);
        if (entry === null) {
          throw new DomainError(
            'not_found',
            `${session.path}: not found after completing`
          );
        }
        return fileEntryOf(located, entry);
      },
      (e, session) => ({ size: e.size, parts: session.partCount })
    );
  }

  async abort(
    user: IStorageUser,
    tierName: string,
    uploadId: string
  ): Promise<void> {
    await this.inSession(
      { user, tierName, uploadId },
      'upload-abort',
      (session, located) => this.discard(session, located),
      (_, session) => ({ size: session.size, parts: session.partCount })
    );
  }

  /**
   * Aborts the multipart uploads of sessions that expired and releases their
   * reservations; expired reservations and claims go too. At most `limit` sessions per
   * call. Resolves with how many sessions were swept; a session whose abort failed stays
   * for the next sweep.
   */
  async sweep(limit = 100): Promise<number> {
    const now = new Date(this.core.now()).toISOString();
    let swept = 0;
    for (const session of this.table.expired(now, limit)) {
      const tier = this.core.directory.byName(session.tier);
      try {
        if (tier !== undefined) {
          const slash = session.path.indexOf('/');
          const group =
            isGroupTier(tier) && slash > 0 ? session.path.slice(0, slash) : '';
          const rest =
            group === '' ? session.path : session.path.slice(slash + 1);
          const opened = this.core.ports.open(tier, session.owner, {
            key: group,
            access: 'write'
          });
          await opened.port.direct
            ?.abortMultipart(rest, session.s3UploadId)
            .catch((e: unknown) => {
              // Already gone (completed elsewhere or aborted by the store): fine.
              if (!(e instanceof StorageError && e.kind === 'not_found')) {
                throw e;
              }
            });
        }
        this.table.delete(session.id);
        this.core.reservations.release(session.id);
        swept += 1;
      } catch {
        // S3 unreachable: the next sweep tries again.
      }
    }
    for (const scope of this.core.reservations.dropExpired(now)) {
      this.core.usage.invalidate(scope);
    }
    return swept;
  }

  private async discard(
    session: IUploadRecord,
    located: ILocated
  ): Promise<void> {
    this.table.delete(session.id);
    this.core.reservations.release(session.id);
    await this.directOf(located).abortMultipart(
      located.rest,
      session.s3UploadId
    );
  }

  private mismatch(
    session: IUploadRecord,
    held: readonly (IMultipartPart & { size: number })[],
    claimed: readonly IMultipartPart[]
  ): string | null {
    const byNumber = new Map(held.map(p => [p.partNumber, p]));
    for (let n = 1; n <= session.partCount; n++) {
      const part = byNumber.get(n);
      if (part === undefined) {
        return `Part ${n} of ${session.partCount} is missing`;
      }
      if (part.size !== partSizeOf(session, n)) {
        return `Part ${n} has ${part.size} bytes, expected ${partSizeOf(session, n)}`;
      }
    }
    if (byNumber.size !== session.partCount) {
      return `S3 holds ${byNumber.size} parts, expected ${session.partCount}`;
    }
    const total = held.reduce((n, p) => n + p.size, 0);
    if (total !== session.size) {
      return `The parts hold ${total} bytes, the upload declared ${session.size}`;
    }
    if (session.mode === 'direct' || claimed.length > 0) {
      if (claimed.length !== session.partCount) {
        return `The client listed ${claimed.length} parts, expected ${session.partCount}`;
      }
      for (const c of claimed) {
        const part = byNumber.get(c.partNumber);
        if (part === undefined || unquote(part.etag) !== unquote(c.etag)) {
          return `Part ${c.partNumber}: the ETag differs from what S3 stored`;
        }
      }
    }
    return null;
  }

  /** Runs `fn` on the caller's session, audited as `action` on the session's path. */
  private inSession<T>(
    { user, tierName, uploadId }: IUploadRef,
    action: StorageAction,
    fn: (session: IUploadRecord, located: ILocated) => Promise<T>,
    details: (result: T, session: IUploadRecord) => Record<string, unknown>
  ): Promise<T> {
    const { session, located } = this.session(user, tierName, uploadId);
    return this.core.audited(
      user,
      located.tier,
      action,
      session.path,
      () => fn(session, located),
      result => details(result, session)
    );
  }

  /** The owner's session on this tier; anyone else gets the same 404 as a missing one. */
  private session(
    user: IStorageUser,
    tierName: string,
    uploadId: string
  ): { session: IUploadRecord; located: ILocated } {
    const session = this.table.get(uploadId);
    if (
      session === undefined ||
      session.owner !== user.name ||
      session.tier !== tierName
    ) {
      throw new DomainError(
        'not_found',
        `No upload ${uploadId} on ${tierName}`
      );
    }
    if (Date.parse(session.expiresAt) < this.core.now()) {
      throw new DomainError('not_found', `Upload ${uploadId} has expired`);
    }
    const tier = this.core.tier(user, tierName);
    return {
      session,
      located: this.core.locate(user, tier, session.path, 'write', {
        item: true
      })
    };
  }

  private directOf(located: ILocated): IDirectAccess {
    const direct = located.port.direct;
    if (direct === undefined) {
      throw new DomainError(
        'bad_request',
        `${located.tier.name} takes uploads as one stream: PUT its content with the file as the body`
      );
    }
    return direct;
  }
}
