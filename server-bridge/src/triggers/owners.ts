/**
 * Who a trigger's runs act as: the owner's identity stored when the trigger was made,
 * with the groups (and the roles that follow from them) read again from the hub when
 * the bridge can list the hub's groups, so that an owner who left a group no longer
 * reaches its tiers. When the hub does not answer, the stored identity is used.
 */
import type { BaseLogger } from 'pino';
import type { GroupDirectory } from '../admin/hub-groups';
import { rolesOf, type IAuthPolicy, type IAuthUser } from '../auth/decide';
import type { ITriggerRecord } from './repository/triggers';

export interface ITriggerOwnersDeps {
  groups?: GroupDirectory;
  policy: Pick<IAuthPolicy, 'adminGroup' | 'instructorGroupSuffix'>;
  logger: Pick<BaseLogger, 'warn'>;
}

export class TriggerOwners {
  constructor(private readonly deps: ITriggerOwnersDeps) {}

  async of(trigger: ITriggerRecord): Promise<IAuthUser> {
    const stored = trigger.identity;
    if (this.deps.groups === undefined) {
      return stored;
    }
    try {
      const directory = await this.deps.groups();
      const groups = [...directory]
        .filter(([, members]) => members.includes(stored.name))
        .map(([group]) => group)
        .sort();
      return {
        ...stored,
        groups,
        ...rolesOf({ admin: stored.admin, groups }, this.deps.policy)
      };
    } catch (e) {
      this.deps.logger.warn(
        { trigger: trigger.id, err: (e as Error).message },
        "the hub's groups are not available: the trigger acts with the groups stored at its creation"
      );
      return stored;
    }
  }
}
