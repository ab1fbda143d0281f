/** A course's dataset: a folder shared by its instructor, read as them and never written. */
import type { IAuthUser } from '../auth/decide';
import type { CourseDatasetList } from '../contract';
import { DomainError } from '../domain-error';
import type { IContent } from '../storage/files';
import { joinPath } from '../storage/paths';
import type { StorageService } from '../storage/service';
import type { IStorageUser } from '../storage/tiers';
import type { Store } from '../store';
import type { CourseTable, IDatasetShare } from './repository/courses';

export class CourseDataset {
  constructor(
    private readonly table: CourseTable,
    private readonly store: Store,
    private readonly storage: StorageService | undefined
  ) {}

  async list(
    user: IAuthUser,
    course: string,
    path: string
  ): Promise<CourseDatasetList> {
    const { storage, dataset } = this.orFail(course);
    const full = path === '' ? dataset.path : joinPath(dataset.path, path);
    this.auditRead(user, course, dataset, 'course.dataset.list', path);
    const list = await storage.files.list(
      ownerOf(dataset),
      dataset.tier,
      full,
      1000
    );
    const prefix = `${dataset.path}/`;
    return {
      tier: dataset.tier,
      path,
      entries: list.entries.map(e => ({
        ...e,
        path: e.path.startsWith(prefix) ? e.path.slice(prefix.length) : e.name,
        writable: false
      }))
    };
  }

  /** A file of the dataset; the caller streams `body`. */
  async read(
    user: IAuthUser,
    course: string,
    path: string,
    range: Parameters<StorageService['files']['read']>[3]
  ): Promise<IContent> {
    const { storage, dataset } = this.orFail(course);
    this.auditRead(user, course, dataset, 'course.dataset.read', path);
    return storage.files.read(
      ownerOf(dataset),
      dataset.tier,
      joinPath(dataset.path, path),
      range
    );
  }

  private auditRead(
    user: IAuthUser,
    course: string,
    dataset: IDatasetShare,
    action: string,
    path: string
  ): void {
    const tier = this.storage?.core.directory.byName(dataset.tier);
    if (tier?.class === 'sensitive') {
      this.store.audit({
        user: user.name,
        action,
        target: `${dataset.tier}:${dataset.path}`,
        details: { course, path, readAs: dataset.owner }
      });
    }
  }

  private orFail(course: string): {
    storage: StorageService;
    dataset: IDatasetShare;
  } {
    const dataset = this.table.get(course)?.dataset ?? null;
    if (dataset === null || this.storage === undefined) {
      throw new DomainError('not_found', `Course ${course} shares no dataset`);
    }
    return { storage: this.storage, dataset };
  }

  /** The folder `tier:path` of the instructor, checked to be one, as a dataset share. */
  async check(
    user: IAuthUser,
    tier: string,
    path: string
  ): Promise<IDatasetShare> {
    if (this.storage === undefined) {
      throw new DomainError(
        'upstream_unavailable',
        'Storage is not available on this bridge'
      );
    }
    const entry = await this.storage.files.stat(user, tier, path);
    if (entry.type !== 'directory') {
      throw new DomainError(
        'bad_request',
        `${tier}:${path} is a file: share a folder as the dataset`
      );
    }
    return { tier, path, owner: user.name, ownerGroups: [...user.groups] };
  }
}

function ownerOf(dataset: IDatasetShare): IStorageUser {
  return { name: dataset.owner, groups: dataset.ownerGroups };
}
