/**
 * `copy`: the new object, or each staged-out output of the ended job, into a tier folder
 * as the owner (the storage service's copy: access, quota and class rules apply). A
 * later attempt of the same run (after a restart) counts a target that exists as its
 * own earlier copy.
 */
import { parseTierUri, type TriggerAction } from '../../contract';
import { DomainError } from '../../domain-error';
import type { JobTable } from '../../jobs/repository/jobs';
import { baseName } from '../../storage/paths';
import type { StorageService } from '../../storage/service';
import type { ActionOutcome, IActionContext, ITriggerAction } from './action';
import { eventUris } from './event-data';

type CopyRule = Extract<TriggerAction, { kind: 'copy' }>;

export class CopyAction implements ITriggerAction<CopyRule> {
  constructor(
    private readonly storage: StorageService,
    private readonly jobs: JobTable
  ) {}

  async perform(ctx: IActionContext, rule: CopyRule): Promise<ActionOutcome> {
    const uris = eventUris(this.jobs, ctx.run.event);
    if (uris.length === 0) {
      throw new DomainError(
        'not_found',
        'The event brought nothing to copy (the job staged out no output)'
      );
    }
    const to = parseTierUri(rule.to);
    const objects: string[] = [];
    for (const uri of uris) {
      const from = parseTierUri(uri);
      const target = `${to.path}/${baseName(from.path)}`;
      await this.copyOne(ctx, from, to.tier, target);
      objects.push(`${to.tier}:${target}${from.folder ? '/' : ''}`);
    }
    return { step: 'finished', result: { objects } };
  }

  private async copyOne(
    ctx: IActionContext,
    from: { tier: string; path: string },
    toTier: string,
    to: string
  ): Promise<void> {
    const transfers = this.storage.transfers;
    let started;
    try {
      started = await transfers.start(ctx.owner, from.tier, {
        from: from.path,
        toTier,
        to
      });
    } catch (e) {
      if (
        ctx.run.attempts > 1 &&
        e instanceof DomainError &&
        e.code === 'conflict'
      ) {
        return;
      }
      throw e;
    }
    await transfers.settled(started.id);
    const done = transfers.get(ctx.owner, started.id);
    if (done.state !== 'completed') {
      throw new Error(
        `copy of ${from.tier}:${from.path} to ${toTier}:${to} failed: ${done.error ?? done.state}`
      );
    }
  }
}
