/** A job element's output notebook, read from its working directory as the job's owner. */
import { NotebookContentSchema, type NotebookContent } from '../contract';
import type { IClusterAccess } from '../credentials/access';
import { DomainError } from '../domain-error';
import type { IJobRecord } from './repository/jobs';

/** Largest output notebook the bridge hands out. */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

export async function readOutputNotebook(
  access: IClusterAccess,
  rec: IJobRecord,
  element: number
): Promise<NotebookContent> {
  const { id } = rec.job;
  const path = `${rec.workdir}/outputs/${element}.ipynb`;
  const data = await access.run(rec.job.cluster, rec.job.owner, s =>
    s.files.readFile(path, MAX_OUTPUT_BYTES)
  );
  if (data === null) {
    throw new DomainError(
      'not_found',
      `Job ${id} has not produced an output notebook yet (state ${rec.job.state}); it appears when the first cell has run`
    );
  }
  const parsed = NotebookContentSchema.safeParse(
    JSON.parse(data.toString('utf8'))
  );
  if (!parsed.success) {
    throw new DomainError(
      'internal',
      `the output notebook of ${id} is not nbformat 4`
    );
  }
  return parsed.data;
}
