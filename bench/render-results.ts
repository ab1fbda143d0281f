/**
 * Renders bench/RESULTS.md from the rows the benchmarks wrote (results.ts) and the
 * list of benchmarks bench/run ran: a header with the date, the commit and the machine,
 * then one table per area with each value next to its baseline from the same run.
 * Rows from alternated rounds show the median with the min–max of the rounds, and the
 * range of the per-round ratios; a pass-through row (`passThrough`) whose target comes
 * out ahead of the upstream it relays to is flagged as noise.
 *
 * Usage: tsx bench/render-results.ts RESULTS_JSONL RUNS_FILE OUT_MD
 * RUNS_FILE has one line per benchmark: `NAME EXIT_CODE SECONDS`.
 * Env: BENCH_LOAD_START (/proc/loadavg when the run began), BENCH_NOTE (the machine
 * and its load during the run).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import type { IResultRow } from './results';

const AREAS: { bench: string; title: string; intro: string }[] = [
  {
    bench: 'jobs',
    title: 'Jobs',
    intro:
      'A notebook submit through the bridge against a fresh `ssh … sbatch`, and the load on slurmctld while N users watch their jobs over the bridge’s event stream (one poller per cluster) against each user polling `squeue` (`bench/jobs.bench.ts`).'
  },
  {
    bench: 'clusters',
    title: 'Cluster view',
    intro:
      '`GET /api/v1/clusters` through the hub’s proxy against `sinfo --json` over an open SSH connection (`bench/clusters.bench.ts`).'
  },
  {
    bench: 'gateway',
    title: 'Gateway',
    intro:
      'An endpoint of the demo model on the `local` provider called through the OpenAI-compatible gateway with an API key, on the bridge’s own port and through the hub’s proxy, against the same llama-server called directly; and the bridge’s own time per request as its `x-hpcb-overhead-ms` header reports it (`bench/gateway.bench.ts`).'
  },
  {
    bench: 'coldstart',
    title: 'Cold start',
    intro:
      'A request to an endpoint with no replica is held until one is ready: the first answer of a new endpoint (from `POST /endpoints` to a 1-token completion through the gateway) against the same llama-server started by hand on the same provider and polled every 20 ms (`bench/coldstart.bench.ts`). The difference is what the bridge adds.'
  },
  {
    bench: 'assistant',
    title: 'Assistant: the course model in the editor',
    intro:
      'A one-token inline completion as the extension asks for it (the hub’s proxy, the bridge’s key kept for the user, its budget reservation, the gateway’s forward) against the same body sent to a llama-server started here with the catalog recipe’s arguments (`bench/assistant.bench.ts`).'
  },
  {
    bench: 'kernels',
    title: 'Kernels on compute nodes',
    intro:
      'A cluster kernel driven by `jupyter_client` as the lab drives it: the round trip of a trivial cell against a local ipykernel, and the first result of a new kernel against the same kernel job submitted by hand with `sbatch` and connected to directly (`bench/kernels.bench.ts`).'
  },
  {
    bench: 'replicas',
    title: 'Replicas: two bridges against one',
    intro:
      'The production shape (two bridges behind HAProxy on one PostgreSQL store) against the same stack with the follower stopped, so that one bridge serves everything: gateway requests/s of 64 clients, event streams that see their job end and the delivery lag, and the slurmctld RPCs of the poller, which only the leader runs (`bench/replicas.bench.ts`; both replicas share this machine’s cores).'
  },
  {
    bench: 'storage',
    title: 'Storage',
    intro:
      'Throughput of each transfer path against the S3 SDK talking to Swift directly, the bridge’s peak resident memory while it moves the file, and the CPU seconds per GiB of every process on the path (`bench/storage.bench.ts`; each round runs the baseline and every path once, in reverse order on odd rounds).'
  },
  {
    bench: 'load',
    title: 'Load: event streams while jobs are submitted',
    intro:
      'Concurrent subscribers of `GET /api/v1/events` (spread over three users) while tiny notebooks are submitted at a fixed rate through the hub’s proxy, against raw `sbatch` over one SSH connection at the same rate, and the same submits straight to the bridge’s port (`bench/load.bench.ts`).'
  },
  {
    bench: 'ui',
    title: 'UI: the Jobs list in Chromium',
    intro:
      'The Jobs section of the real panel in the real lab (Debian Chromium, headless), its `GET /jobs` answered with N generated jobs; baseline: the same with 100 jobs (`ui-tests/bench/jobs-list.bench.ts`, which says why it is measured this way).'
  }
];

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore']
    }).trim();
  } catch {
    return 'unknown';
  }
}

function cpuModel(): string {
  const info = readFileSync('/proc/cpuinfo', 'utf8');
  return /^model name\s*:\s*(.+)$/m.exec(info)?.[1].trim() ?? cpus()[0].model;
}

function number(v: number, integers = true): string {
  if (!Number.isFinite(v)) {
    return String(v);
  }
  if (integers && Number.isInteger(v)) {
    return String(v);
  }
  const abs = Math.abs(v);
  return abs >= 100 ? v.toFixed(0) : abs >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function ratio(v: number): string {
  if (!Number.isFinite(v)) {
    return '–';
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 0.1 ? v.toFixed(2) : v.toPrecision(2)}×`;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A value with the min–max of its rounds, where it has rounds. */
function withRange(v: number, unit: string, range?: [number, number]): string {
  // The bounds as precise as the value: `3.10 ms (3.00–3.30)`, not `(3–3.30)`.
  const bound = (b: number) => number(b, Number.isInteger(v));
  return `${number(v)} ${unit}${range ? ` (${bound(range[0])}–${bound(range[1])})` : ''}`;
}

/** Whether the target came out ahead of its baseline. */
function ahead(r: IResultRow): boolean {
  return r.better === 'lower' ? r.ratio < 1 : r.ratio > 1;
}

function noteOf(r: IResultRow): string {
  const parts: string[] = [];
  if (r.passThrough && r.better && ahead(r)) {
    parts.push(
      '**faster than the upstream it only relays to: measurement noise, not a result**'
    );
  }
  if (r.better) {
    parts.push(`${r.better} is better`);
  }
  if (r.note) {
    parts.push(r.note);
  }
  if (r.rounds !== undefined && r.spread) {
    const [lo, hi] = r.spread.ratio;
    parts.push(
      `median of ${r.rounds} alternated rounds; per-round ratio ${ratio(lo)}–${ratio(hi)}` +
        (lo < 1 && hi > 1
          ? ' (the rounds disagree on which side is ahead)'
          : '')
    );
  }
  return parts.join('; ');
}

function table(rows: IResultRow[]): string {
  const lines = [
    '| measured | value | baseline (same run) | baseline value | ratio | note |',
    '| --- | ---: | --- | ---: | ---: | --- |'
  ];
  for (const r of rows) {
    lines.push(
      `| ${cell(r.metric)} | ${withRange(r.value, r.unit, r.spread?.value)} | ${cell(r.baseline)} | ${withRange(r.baselineValue, r.unit, r.spread?.baselineValue)} | ${ratio(r.ratio)} | ${cell(noteOf(r))} |`
    );
  }
  return lines.join('\n');
}

/** How the rows of one table were measured, in a sentence or two. */
function method(rows: IResultRow[]): string {
  const alternated = rows.filter(r => r.rounds !== undefined).length;
  const medians =
    'Compared rows are medians of rounds that alternate the target and its baseline (the baseline first on even rounds, the target first on odd ones), with the min–max of the rounds in brackets; the ratio is median over median, and the note gives the number of rounds and the range of the per-round ratios.';
  if (alternated === rows.length) {
    return medians;
  }
  const single =
    'rows without brackets come from one measurement of each side, not from alternated rounds: read a ratio near 1 there as no difference.';
  if (alternated > 0) {
    return `${medians} Other ${single}`;
  }
  return `The ${single.replace(/^rows without brackets/, 'rows')}`;
}

function main(): void {
  const [resultsFile, runsFile, out] = process.argv.slice(2);
  if (!resultsFile || !runsFile || !out) {
    throw new Error('usage: render-results.ts RESULTS_JSONL RUNS_FILE OUT_MD');
  }
  const rows: IResultRow[] = existsSync(resultsFile)
    ? readFileSync(resultsFile, 'utf8')
        .split('\n')
        .filter(line => line.trim())
        .map(line => JSON.parse(line) as IResultRow)
    : [];
  const runs = readFileSync(runsFile, 'utf8')
    .split('\n')
    .filter(line => line.trim())
    .map(line => {
      const [name, code, seconds] = line.split(' ');
      return { name, code: Number(code), seconds: Number(seconds) };
    });

  const commit = sh('git', ['rev-parse', '--short', 'HEAD']);
  // The results themselves (written just before) are no change to the code measured.
  const dirty =
    sh('git', [
      'status',
      '--porcelain',
      '--',
      '.',
      ':!bench/RESULTS.md',
      ':!bench/RESULTS.jsonl'
    ]) !== ''
      ? ' (+ uncommitted changes)'
      : '';
  const total = runs.reduce((sum, r) => sum + r.seconds, 0);
  const header = [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (`bench/run`); regenerated on every run, do not edit.',
    'Every value is compared with a baseline measured in the same run on the same machine;',
    'where the two were measured in alternated rounds, the table shows medians and the spread.',
    '',
    `- **date**: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
    `- **commit**: ${commit}${dirty}`,
    `- **CPU**: ${cpuModel()}, ${cpus().length} cores`,
    `- **memory**: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- **kernel**: Linux ${release()}`,
    `- **node**: ${process.version}; **Chromium**: ${sh('/usr/bin/chromium', ['--version'])}`,
    `- **load average** (1, 5, 15 min): ${process.env.BENCH_LOAD_START?.split(' ').slice(0, 3).join(', ') ?? '?'} at the start, ${loadavg()
      .map(v => v.toFixed(2))
      .join(', ')} at the end`,
    `- **duration**: ${(total / 60).toFixed(1)} min (${runs.map(r => `${r.name} ${r.seconds} s`).join(', ')})`
  ];
  if (process.env.BENCH_NOTE) {
    header.push(`- **machine and load**: ${process.env.BENCH_NOTE}`);
  }
  const failed = runs.filter(r => r.code !== 0);
  if (failed.length > 0) {
    header.push(
      `- **failed**: ${failed.map(r => `${r.name} (exit ${r.code})`).join(', ')}: their tables are missing or incomplete; see the run's output`
    );
  }

  const sections: string[] = [];
  const known = new Set(AREAS.map(a => a.bench));
  const extra = [...new Set(rows.map(r => r.bench))].filter(b => !known.has(b));
  for (const area of [
    ...AREAS,
    ...extra.map(bench => ({ bench, title: bench, intro: '' }))
  ]) {
    const mine = rows.filter(r => r.bench === area.bench);
    if (mine.length === 0 && !runs.some(r => r.name === area.bench)) {
      continue;
    }
    sections.push(
      `## ${area.title}\n\n${area.intro ? `${area.intro}\n\n` : ''}${
        mine.length > 0
          ? `${method(mine)}\n\n${table(mine)}`
          : '_No results: the benchmark did not finish._'
      }`
    );
  }
  const text = `${header.join('\n')}\n\nRatio = value / baseline value; the note says which way is better. A target that only relays to its baseline (a pass-through: the gateway to its llama-server, the proxy to the bridge) cannot be faster than it; where a row says it is, the note flags it as measurement noise.\n\n${sections.join('\n\n')}\n`;
  writeFileSync(out, text);
  process.stdout.write(`wrote ${out} (${rows.length} rows)\n`);
}

main();
