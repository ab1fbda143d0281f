/**
 * Parsing of the queue and of accounting, as SLURM 22.05 prints them.
 *
 * `squeue --json` (v0.0.38) ignores `-j` and every filter: we read the whole queue and
 * filter ourselves. A pending array is one record with `array_task_string` (`0-2`,
 * `1,3-5%2`, `0-9:3`); running elements are records of their own.
 *
 * Accounting comes from `sacct --parsable2` rather than `sacct --json`: in 22.05 the JSON
 * reports `exit_code: {status: SUCCESS, return_code: 0}` for jobs that exited 3
 * (checked on this stack, see test/fixtures/sacct-22.05.json vs sacct-parsable.txt).
 */
import { z } from 'zod';
import type { IAccountingRecord, IQueueRecord } from '../../ports/slurm';

const SqueueJobSchema = z.looseObject({
  job_id: z.number().int(),
  array_job_id: z.number().int().default(0),
  array_task_id: z.number().int().nullable().default(null),
  array_task_string: z.string().default(''),
  name: z.string().default(''),
  job_state: z.string(),
  state_reason: z.string().default('None'),
  nodes: z.string().default(''),
  partition: z.string().default(''),
  priority: z.number().default(0),
  user_name: z.string().default(''),
  submit_time: z.number().default(0),
  start_time: z.number().default(0),
  end_time: z.number().default(0),
  exit_code: z.number().nullable().default(null)
});

export const SqueueSchema = z.looseObject({
  jobs: z.array(SqueueJobSchema)
});

const SqueueErrorsSchema = z.looseObject({
  errors: z
    .array(
      z.looseObject({
        description: z.string().optional(),
        error: z.string().optional(),
        source: z.string().optional()
      })
    )
    .default([])
});

/** The errors `squeue --json` reports next to its (then empty) queue, or null. */
export function squeueFailure(json: unknown): string | null {
  const parsed = SqueueErrorsSchema.safeParse(json);
  if (!parsed.success || parsed.data.errors.length === 0) {
    return null;
  }
  return parsed.data.errors
    .map(e => [e.source, e.description ?? e.error].filter(Boolean).join(': '))
    .join('; ');
}

/** `0-2`, `1,3-5`, `0-9:3`, `0-9%2` → the indices. Caps at 100 000 to stay bounded. */
export function expandArrayTasks(spec: string): number[] {
  const out: number[] = [];
  const body = spec.split('%')[0] ?? '';
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim());
    if (m === null) {
      continue;
    }
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    const step = m[3] === undefined ? 1 : Math.max(1, Number(m[3]));
    for (let i = from; i <= to && out.length < 100_000; i += step) {
      out.push(i);
    }
  }
  return out;
}

export function parseSqueue(json: unknown): IQueueRecord[] {
  const { jobs } = SqueueSchema.parse(json);
  const out: IQueueRecord[] = [];
  for (const j of jobs) {
    const base: Omit<IQueueRecord, 'key'> = {
      jobId: j.job_id,
      baseId: j.array_job_id !== 0 ? j.array_job_id : j.job_id,
      name: j.name,
      state: j.job_state,
      reason:
        j.state_reason === 'None' || j.state_reason === ''
          ? null
          : j.state_reason,
      node: j.nodes === '' ? null : j.nodes,
      partition: j.partition,
      priority: j.priority,
      user: j.user_name,
      submitTime: j.submit_time,
      startTime: j.start_time,
      endTime: j.end_time,
      exitStatus: j.exit_code
    };
    if (j.array_job_id === 0) {
      out.push({ key: String(j.job_id), ...base });
    } else if (j.array_task_id !== null) {
      out.push({ key: `${j.array_job_id}_${j.array_task_id}`, ...base });
    } else {
      for (const i of expandArrayTasks(j.array_task_string)) {
        out.push({ key: `${j.array_job_id}_${i}`, ...base });
      }
    }
  }
  return out;
}

/** The fields asked of sacct, in this order (`--parsable2 --noheader --format=…`). */
export const SACCT_FIELDS = [
  'JobID',
  'State',
  'ExitCode',
  'MaxRSS',
  'ElapsedRaw',
  'Start',
  'End',
  'NodeList',
  'Reason'
] as const;

/** `1234K`, `12M`, `1.5G` (sacct's MaxRSS) → MB; null when empty. */
export function parseRssMB(text: string): number | null {
  const m = /^([\d.]+)([KMGT]?)$/i.exec(text.trim());
  if (m === null) {
    return null;
  }
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toUpperCase();
  const factor =
    unit === 'K'
      ? 1 / 1024
      : unit === 'G'
        ? 1024
        : unit === 'T'
          ? 1024 * 1024
          : unit === 'M'
            ? 1
            : 1 / (1024 * 1024);
  return Math.round(n * factor * 10) / 10;
}

const epochOrNull = (t: string): number | null =>
  /^\d+$/.test(t) && Number(t) > 0 ? Number(t) : null;

/** Parses `sacct -P -n -o JobID,State,…` run with `SLURM_TIME_FORMAT=%s`. */
export function parseSacct(text: string): IAccountingRecord[] {
  const byKey = new Map<string, IAccountingRecord>();
  const steps: [string, number | null][] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      continue;
    }
    const f = line.split('|');
    const [
      jobId = '',
      state = '',
      exitCode = '',
      maxRss = '',
      elapsed = '',
      start = '',
      end = '',
      nodes = '',
      reason = ''
    ] = f;
    if (jobId.includes('[')) {
      continue; // a pending array range: the queue knows it better
    }
    const dot = jobId.indexOf('.');
    if (dot !== -1) {
      steps.push([jobId.slice(0, dot), parseRssMB(maxRss)]);
      continue;
    }
    byKey.set(jobId, {
      key: jobId,
      state: (state.split(' ')[0] ?? '').toUpperCase(),
      reason: reason === '' || reason === 'None' ? null : reason,
      node: nodes === '' || nodes === 'None assigned' ? null : nodes,
      exitCode: /^\d+:\d+$/.test(exitCode) ? exitCode : null,
      elapsedSeconds: /^\d+$/.test(elapsed) ? Number(elapsed) : null,
      startTime: epochOrNull(start),
      endTime: epochOrNull(end),
      maxRssMB: parseRssMB(maxRss)
    });
  }
  for (const [key, rss] of steps) {
    const rec = byKey.get(key);
    if (rec !== undefined && rss !== null) {
      rec.maxRssMB = Math.max(rec.maxRssMB ?? 0, rss);
    }
  }
  return [...byKey.values()];
}

/** `sbatch --parsable` prints `123` or `123;cluster`. */
/**
 * Lines `JOBID|WORKDIR` (sacct's JobID, squeue's %F) → the base ids of the jobs whose
 * working directory is `workdir`: `12_3` and `12_[0-3]` count as `12`.
 */
export function parseJobsIn(stdout: string, workdir: string): string[] {
  const want = workdir.replace(/\/+$/, '');
  const ids = new Set<string>();
  for (const line of stdout.split('\n')) {
    const bar = line.indexOf('|');
    const id = /^(\d+)/.exec(line.slice(0, bar).trim())?.[1];
    if (
      bar > 0 &&
      id !== undefined &&
      line
        .slice(bar + 1)
        .trim()
        .replace(/\/+$/, '') === want
    ) {
      ids.add(id);
    }
  }
  return [...ids];
}

export function parseSbatchParsable(stdout: string): string {
  const m = /^(\d+)(?:;\S+)?\s*$/m.exec(stdout.trim());
  if (m === null) {
    throw new Error(`unexpected sbatch output: ${stdout.trim().slice(0, 200)}`);
  }
  return m[1] ?? '';
}

/** `sbatch: Job 9 to start at 2026-11-25T10:30:00 using …` → ISO (UTC) or null. */
export function parseTestOnly(
  stderr: string,
  tzOffsetMinutes = 0
): { expectedStart: string | null; message: string } {
  const line =
    stderr.split('\n').find(l => /to start at/.test(l)) ??
    stderr.trim().split('\n').slice(-1)[0] ??
    '';
  const message = line.replace(/^sbatch:\s*/, '').trim();
  const m = /to start at (\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})/.exec(
    line
  );
  if (m === null) {
    return { expectedStart: null, message };
  }
  const [y = 0, mo = 1, d = 1, h = 0, mi = 0, s = 0] = m.slice(1).map(Number);
  if (y > 9999) {
    return { expectedStart: null, message }; // seen: "to start at 14276-02-02T…" when unknown
  }
  const ms = Date.UTC(y, mo - 1, d, h, mi, s) - tzOffsetMinutes * 60_000;
  return { expectedStart: new Date(ms).toISOString(), message };
}
