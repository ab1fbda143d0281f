/**
 * Server-side copies within and between tiers, run in the background with progress.
 * Same scope and a backend that can copy by itself → `copyWithin`; otherwise each file
 * streams read → write through the bridge (never buffered whole). The transfer's state
 * is written to the store (at each file, at most every second while a file streams, and
 * at its end), so that any bridge replica answers it.
 */
import type { CopyRequest, Transfer } from '../contract';
import { DomainError } from '../domain-error';
import type { IStorageEntry } from '../ports/storage';
import type { ILocated, IReservation, StorageCore } from './core';
import { randomId } from './repository/records';
import type { TransferTable } from './repository/transfers';
import type { IStorageUser } from './tiers';

/** Finished transfers are forgotten after this long. */
const KEEP_MS = 60 * 60 * 1000;

/** How often a streaming file's progress is written at most. */
const PROGRESS_WRITE_MS = 1000;

export class StorageTransfers {
  constructor(
    private readonly core: StorageCore,
    private readonly table: TransferTable
  ) {}

  /** Checks access, existence and quota, then starts the copy; answers at once. */
  async start(
    user: IStorageUser,
    tierName: string,
    request: CopyRequest
  ): Promise<Transfer> {
    const toTierName = request.toTier ?? tierName;
    const plan = await this.core.run(
      user,
      tierName,
      'copy',
      request.from,
      async fromTier => {
        const toTier = this.core.directory.tier(toTierName, user);
        if (fromTier.class === 'sensitive' && toTier.class !== 'sensitive') {
          throw new DomainError(
            'forbidden',
            `Files on a sensitive tier can only be copied to a sensitive tier; ${toTier.name} is a ${toTier.class} tier`
          );
        }
        const source = this.core.locate(user, fromTier, request.from, 'read', {
          item: true
        });
        const target = await this.core.audited(
          user,
          toTier,
          'write',
          request.to,
          async () =>
            this.core.locate(user, toTier, request.to, 'write', { item: true })
        );
        const stat = await source.port.stat(source.rest);
        if (stat === null) {
          throw new DomainError(
            'not_found',
            `${fromTier.name}:${request.from}: no such file or folder`
          );
        }
        if ((await target.port.stat(target.rest)) !== null) {
          throw new DomainError(
            'conflict',
            `${toTier.name}:${request.to} already exists`
          );
        }
        if (
          source.tier.name === target.tier.name &&
          source.scope.key === target.scope.key &&
          (target.rest === source.rest ||
            target.rest.startsWith(`${source.rest}/`))
        ) {
          throw new DomainError(
            'bad_request',
            'A folder cannot be copied into itself'
          );
        }
        const files: IStorageEntry[] = [];
        for await (const e of source.port.walk(source.rest)) {
          if (e.type === 'file') {
            files.push(e);
          }
        }
        const bytes = files.reduce((n, f) => n + (f.size ?? 0), 0);
        // Held until the copy ends, so that writes meanwhile cannot take the space.
        const reservation = await this.core.reserve(target, bytes);
        return {
          source,
          target,
          files,
          bytes,
          reservation,
          isFolder: stat.type === 'directory'
        };
      },
      p => ({
        to: `${toTierName}:${request.to}`,
        files: p.files.length,
        size: p.bytes
      })
    );
    const transfer: Transfer = {
      id: randomId(12),
      kind: 'copy',
      from: { tier: tierName, path: request.from },
      to: { tier: toTierName, path: request.to },
      state: 'running',
      bytesDone: 0,
      bytesTotal: plan.bytes,
      filesDone: 0,
      filesTotal: plan.files.length,
      startedAt: new Date(this.core.now()).toISOString(),
      finishedAt: null
    };
    this.prune();
    this.table.insert(user.name, transfer);
    void this.copy(user, transfer, plan).catch(() => undefined);
    return { ...transfer };
  }

  /** The transfer, to its owner only (others get the same 404 as an unknown id). */
  get(user: IStorageUser, id: string): Transfer {
    const rec = this.table.get(id);
    if (rec === undefined || rec.owner !== user.name) {
      throw new DomainError('not_found', `No transfer ${id}`);
    }
    return { ...rec.transfer };
  }

  /** Resolves when the transfer has finished (for tests and callers that wait). */
  private running = new Map<string, Promise<void>>();

  async settled(id: string): Promise<void> {
    await this.running.get(id);
  }

  private copy(
    user: IStorageUser,
    transfer: Transfer,
    plan: {
      source: ILocated;
      target: ILocated;
      files: IStorageEntry[];
      isFolder: boolean;
      reservation: IReservation;
    }
  ): Promise<void> {
    const run = this.copyFiles(transfer, plan)
      .then(() => {
        transfer.state = 'completed';
      })
      .catch((e: unknown) => {
        transfer.state = 'failed';
        transfer.error = (e as Error).message;
      })
      .finally(() => {
        transfer.finishedAt = new Date(this.core.now()).toISOString();
        this.table.update(transfer);
        this.core.usage.invalidate(plan.target.opened.usageKey);
        plan.reservation.release();
        if (plan.target.tier.class === 'sensitive') {
          this.core.audit.record({
            user: user.name,
            action: 'copy',
            tier: plan.target.tier.name,
            path: transfer.to.path,
            outcome: transfer.state === 'completed' ? 'ok' : 'failed',
            details: {
              from: `${transfer.from.tier}:${transfer.from.path}`,
              size: transfer.bytesDone,
              files: transfer.filesDone,
              ...(transfer.error === undefined ? {} : { error: transfer.error })
            }
          });
        }
        this.running.delete(transfer.id);
      });
    this.running.set(transfer.id, run);
    return run;
  }

  private async copyFiles(
    transfer: Transfer,
    plan: {
      source: ILocated;
      target: ILocated;
      files: IStorageEntry[];
      isFolder: boolean;
    }
  ): Promise<void> {
    const { source, target } = plan;
    const sameScope =
      source.tier.name === target.tier.name &&
      source.scope.key === target.scope.key;
    const copyWithin = sameScope ? source.port.copyWithin : undefined;
    if (plan.isFolder) {
      await target.port.mkdir(target.rest);
    }
    let written = this.core.now();
    for (const file of plan.files) {
      const to = plan.isFolder
        ? `${target.rest}${file.path.slice(source.rest.length)}`
        : target.rest;
      const size = file.size ?? 0;
      if (copyWithin !== undefined) {
        await copyWithin.call(source.port, file.path, to);
        transfer.bytesDone += size;
      } else {
        const read = await source.port.read(file.path);
        if (read === null) {
          throw new DomainError(
            'not_found',
            `${file.path} vanished during the copy`
          );
        }
        const before = transfer.bytesDone;
        await target.port.write(to, read.body, {
          size: read.size,
          onProgress: n => {
            transfer.bytesDone = before + n;
            if (this.core.now() - written >= PROGRESS_WRITE_MS) {
              written = this.core.now();
              this.table.update(transfer);
            }
          }
        });
        transfer.bytesDone = before + read.size;
      }
      transfer.filesDone += 1;
      written = this.core.now();
      this.table.update(transfer);
    }
  }

  private prune(): void {
    this.table.dropFinishedBefore(
      new Date(this.core.now() - KEEP_MS).toISOString()
    );
  }
}
