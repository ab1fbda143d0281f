/** Helpers of the admin tests: a CSV reader and job records. */
import type { Job, JobElement } from '../../src/contract';

/** A small RFC 4180 parser, to check that what we write reads back the same. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else {
      field += c;
    }
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const T0 = Date.parse('2026-03-01T10:00:00Z');

/** A job of alice with these elements and resources, submitted at T0. */
export function jobOf(
  elements: JobElement[],
  cpus: number,
  gpus: number,
  over: Partial<Job> = {}
): Job {
  return {
    id: 'j1',
    owner: 'alice',
    cluster: 'demo',
    name: 'n',
    notebookPath: 'a.ipynb',
    profile: 'cpu-small',
    partition: 'cpu',
    resources: { timeMinutes: 60, cpus, memoryMB: 500, gpus },
    state: elements[0]?.state ?? 'COMPLETED',
    slurmId: '1',
    isArray: elements.length > 1,
    elements,
    queuePosition: null,
    expectedStart: null,
    submittedAt: new Date(T0).toISOString(),
    updatedAt: new Date(T0).toISOString(),
    resubmittedFrom: null,
    ...over
  };
}
