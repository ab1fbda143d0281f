/**
 * Storage tiers: upload and download throughput of large files through the bridge's
 * paths against the direct S3 SDK (the baseline, measured in the same run), and the
 * bridge's peak memory while it moves them.
 *
 *   (i)   direct S3, @aws-sdk/lib-storage Upload / GetObject (baseline)
 *   (ii)  streamed through the bridge: PUT / GET …/tiers/archive/content
 *   (iii) multipart session: POST …/tiers/archive/uploads, PUT the parts to the
 *         presigned URLs (or to the bridge in `bridge` mode), POST …/complete;
 *         download through a presigned URL from …/code-access
 *   (iv)  the sftp tier `scratch` through the bridge: PUT / GET …/tiers/scratch/content,
 *         next to OpenSSH's scp of the same file as the same user (what sftp can do here)
 *
 * The paths alternate with the baseline round by round (stats.ts): even rounds run the
 * baseline, then (ii), (iii), (iv), scp; odd rounds the reverse, so that every path and
 * the baseline share each stretch of the machine's load and none always goes first.
 * Each row is the median of the rounds with their min–max, its ratio the median over
 * the median of the baseline, with the range of the per-round ratios.
 *
 * Env: BENCH_STORAGE_SIZES (MiB, default 256; 1024 as well takes about four times as
 * long), BENCH_STORAGE_ROUNDS (alternated rounds, default 5; at least 5 makes sense),
 * BENCH_STORAGE_CONCURRENCY (parallel part PUTs, default 4), BENCH_STORAGE_TMP,
 * BENCH_STORAGE_PATHS (a subset of sdk,stream,multipart,sftp; the baseline always runs).
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import {
  Routes,
  type CodeAccess,
  type UploadSession
} from '../server-bridge/src/contract';
import {
  BRIDGE_URL,
  STACK_DIR,
  bridge,
  createUserToken
} from '../server-bridge/test/integration/stack';
import {
  cpuSeconds,
  endedChildrenCpuSeconds,
  stackPid,
  treeCpuSeconds
} from './proc';
import { record, recordComparison } from './results';
import { alternateRounds, compare, type IComparison } from './stats';

const execFileAsync = promisify(execFile);
const MIB = 2 ** 20;
const SIZES = (process.env.BENCH_STORAGE_SIZES ?? '256')
  .split(',')
  .map(s => Number(s) * MIB);
const ROUNDS = Number(process.env.BENCH_STORAGE_ROUNDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_STORAGE_CONCURRENCY ?? 4);
const PATHS = new Set(
  (process.env.BENCH_STORAGE_PATHS ?? 'sdk,stream,multipart,sftp').split(',')
);
const USER = 'alice';
const S3_TIER = 'archive';
const S3_BUCKET = 'hpc-archive'; // the archive tier's bucket, prefix {user}/
const SFTP_TIER = 'scratch';
const FOLDER = 'bench-storage';

interface IFile {
  path: string;
  size: number;
  sha256: string;
}

interface ITransfer {
  bytes: number;
  sha256?: string;
}

/** A file of SIZE random bytes (a random 16 MiB block, repeated) and its sha256. */
async function makeFile(dir: string, size: number): Promise<IFile> {
  const path = join(dir, `${size / MIB}MiB.bin`);
  const block = randomBytes(16 * MIB);
  const hash = createHash('sha256');
  const handle = await open(path, 'w');
  try {
    for (let done = 0; done < size; done += block.length) {
      const chunk = block.subarray(0, Math.min(block.length, size - done));
      hash.update(chunk);
      await handle.write(chunk);
    }
  } finally {
    await handle.close();
  }
  return { path, size, sha256: hash.digest('hex') };
}

/** Reads a body to its end, counting and hashing it (what a careful client does). */
async function drain(
  body: Readable | AsyncIterable<Uint8Array>
): Promise<ITransfer> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

interface IHttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTP request with node:http (a streamed body with an exact Content-Length, which
 * fetch cannot send); the response body is drained and hashed, or kept as text.
 */
function http(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: Readable,
  sink?: (transfer: ITransfer) => void
): Promise<IHttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, res => {
      const status = res.statusCode ?? 0;
      if (sink !== undefined && status === 200) {
        drain(res).then(t => {
          sink(t);
          resolve({ status, headers: res.headers, body: '' });
        }, reject);
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8')
        })
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body === undefined) {
      req.end();
    } else {
      body.on('error', reject);
      body.pipe(req);
    }
  });
}

function expectStatus(what: string, res: IHttpResult, ...ok: number[]): void {
  if (!ok.includes(res.status)) {
    throw new Error(
      `${what}: HTTP ${res.status} ${res.body.replace(/\s+/g, ' ').slice(0, 200)}`
    );
  }
}

function expectContent(what: string, file: IFile, got: ITransfer): void {
  if (got.bytes !== file.size || got.sha256 !== file.sha256) {
    throw new Error(
      `${what}: got ${got.bytes} bytes, sha256 ${got.sha256}; expected ${file.size}, ${file.sha256}`
    );
  }
}

/** Samples the bridge's resident memory every 100 ms; `stop` returns the peak. */
class RssSampler {
  private peak = 0;
  private timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }

  private sample(): void {
    const kb = statusField(this.pid, 'VmRSS');
    if (kb !== null) {
      this.peak = Math.max(this.peak, kb * 1024);
    }
  }
}

function statusField(pid: number, field: string): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

function bridgePid(): number {
  return Number(
    readFileSync(join(STACK_DIR, 'run', 'bridge.pid'), 'utf8').trim()
  );
}

class Paths {
  constructor(
    private readonly token: string,
    private readonly s3: S3Client
  ) {}

  private auth(): Record<string, string> {
    return { Authorization: `token ${this.token}` };
  }

  private contentUrl(tier: string, path: string): string {
    return `${BRIDGE_URL}${Routes.tierContent(tier)}?path=${encodeURIComponent(path)}`;
  }

  async directS3Upload(file: IFile, key: string): Promise<void> {
    await new Upload({
      client: this.s3,
      params: {
        Bucket: S3_BUCKET,
        Key: `${USER}/${key}`,
        Body: createReadStream(file.path),
        ContentLength: file.size
      },
      partSize: 8 * MIB,
      queueSize: CONCURRENCY
    }).done();
  }

  async directS3Download(file: IFile, key: string): Promise<void> {
    const res = await this.s3.send(
      new GetObjectCommand({ Bucket: S3_BUCKET, Key: `${USER}/${key}` })
    );
    expectContent('GetObject', file, await drain(res.Body as Readable));
  }

  async streamedUpload(tier: string, file: IFile, path: string): Promise<void> {
    const res = await http(
      this.contentUrl(tier, path),
      'PUT',
      {
        ...this.auth(),
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(file.size),
        'x-checksum-sha256': file.sha256
      },
      createReadStream(file.path)
    );
    expectStatus(`PUT ${tier}:${path}`, res, 200, 201);
  }

  async streamedDownload(
    tier: string,
    file: IFile,
    path: string
  ): Promise<void> {
    let got: ITransfer = { bytes: 0 };
    const res = await http(
      this.contentUrl(tier, path),
      'GET',
      this.auth(),
      undefined,
      t => (got = t)
    );
    expectStatus(`GET ${tier}:${path}`, res, 200);
    expectContent(`GET ${tier}:${path}`, file, got);
  }

  /** Returns the session's mode, so that the report can say which one ran. */
  async multipartUpload(file: IFile, path: string): Promise<string> {
    const start = await bridge(Routes.tierUploads(S3_TIER), this.token, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ path, size: file.size, direct: true })
    });
    if (start.status !== 200 && start.status !== 201) {
      throw new Error(
        `POST uploads: ${start.status} ${JSON.stringify(start.body)}`
      );
    }
    const session = start.body as UploadSession;
    const etags: { partNumber: number; etag: string }[] = [];
    const queue = Array.from({ length: session.partCount }, (_, i) => i + 1);
    const putPart = async (partNumber: number): Promise<void> => {
      const first = (partNumber - 1) * session.partSize;
      const length = Math.min(session.partSize, file.size - first);
      const direct = session.mode === 'direct';
      const url = direct
        ? session.parts.find(p => p.partNumber === partNumber)?.url
        : `${BRIDGE_URL}${Routes.tierUploadPart(S3_TIER, session.uploadId, partNumber)}`;
      if (url === undefined) {
        throw new Error(`the session has no URL for part ${partNumber}`);
      }
      const res = await http(
        url,
        'PUT',
        {
          ...(direct ? {} : this.auth()),
          'Content-Type': 'application/octet-stream',
          'Content-Length': String(length)
        },
        createReadStream(file.path, { start: first, end: first + length - 1 })
      );
      expectStatus(`PUT part ${partNumber}`, res, 200, 201, 204);
      etags.push({ partNumber, etag: String(res.headers.etag ?? '') });
    };
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
        for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
          await putPart(n);
        }
      })
    );
    etags.sort((a, b) => a.partNumber - b.partNumber);
    const done = await bridge(
      Routes.tierUploadComplete(S3_TIER, session.uploadId),
      this.token,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ parts: session.mode === 'direct' ? etags : [] })
      }
    );
    if (done.status !== 200 && done.status !== 201) {
      throw new Error(
        `POST complete: ${done.status} ${JSON.stringify(done.body)}`
      );
    }
    return session.mode;
  }

  async presignedDownload(file: IFile, path: string): Promise<void> {
    const access = await bridge(Routes.tierCodeAccess(S3_TIER), this.token, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ path, mode: 'read', expiresInSeconds: 600 })
    });
    const url = (access.body as CodeAccess | undefined)?.url;
    if (access.status !== 200 || typeof url !== 'string') {
      throw new Error(
        `POST code-access: ${access.status} ${JSON.stringify(access.body)}`
      );
    }
    let got: ITransfer = { bytes: 0 };
    const res = await http(url, 'GET', {}, undefined, t => (got = t));
    expectStatus('GET presigned', res, 200);
    expectContent('GET presigned', file, got);
  }

  /** The benchmark's objects in the archive bucket, deleted with the SDK. */
  async removeS3Folder(): Promise<void> {
    const listed = await this.s3.send(
      new ListObjectsV2Command({
        Bucket: S3_BUCKET,
        Prefix: `${USER}/${FOLDER}/`
      })
    );
    for (const { Key } of listed.Contents ?? []) {
      await this.s3.send(
        new DeleteObjectCommand({ Bucket: S3_BUCKET, Key: Key as string })
      );
    }
  }

  /** Best effort: the folder goes (recursively where the bridge allows it). */
  async remove(tier: string, path: string): Promise<void> {
    await http(
      `${BRIDGE_URL}${Routes.tierFiles(tier)}?path=${encodeURIComponent(path)}`,
      'DELETE',
      this.auth()
    ).catch(() => undefined);
  }
}

const scratchPath = (path: string) => `/scratch/${USER}/${path}`;

/** OpenSSH's scp (SFTP protocol) with the user's demo key: what sftp can do on this host. */
async function scp(from: string, to: string): Promise<void> {
  await execFileAsync('scp', [
    '-q',
    '-P',
    '2222',
    '-i',
    join(STACK_DIR, 'ssh', 'users', `${USER}_ed25519`),
    '-o',
    `UserKnownHostsFile=${join(STACK_DIR, 'ssh', 'known_hosts')}`,
    '-o',
    'BatchMode=yes',
    from,
    to
  ]);
}

/**
 * One path's rounds: seconds per round each way, the bridge's peak RSS meanwhile, and
 * the CPU seconds of the processes that move the bytes (all rounds, both ways).
 */
interface IRow {
  label: string;
  upload: number[];
  download: number[];
  rss: number;
  cpu: {
    bridge: number;
    proxy: number;
    swift: number;
    ssh: number;
    client: number;
  };
}

/** CPU seconds so far of the processes a transfer may pass through. */
function cpuNow(): IRow['cpu'] {
  const of = (name: string) => cpuSeconds(stackPid(STACK_DIR, name));
  const own = process.cpuUsage();
  return {
    bridge: of('bridge'),
    proxy: of('configurable-http-proxy'),
    swift: of('swift-proxy') + of('swift-object'),
    // The login node's sshd with every session and sftp-server it forked.
    ssh: treeCpuSeconds(stackPid(STACK_DIR, 'sshd')),
    // This process and the scp/ssh clients it ran.
    client: (own.user + own.system) / 1e6 + endedChildrenCpuSeconds('self')
  };
}

async function timed(task: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await task();
  return (performance.now() - start) / 1000;
}

const fixed = (v: number) => v.toFixed(1);

function printRow(size: number, row: IRow, baseline: IRow): void {
  const mibps = (seconds: number[]) => seconds.map(s => size / MIB / s);
  const isBaseline = row === baseline;
  const rss = isBaseline
    ? `bridge RSS ${(row.rss / MIB).toFixed(0)} MiB (idle)`
    : `bridge peak RSS ${(row.rss / MIB).toFixed(0)} MiB`;
  const ways = [
    ['upload', compare(mibps(row.upload), mibps(baseline.upload))],
    ['download', compare(mibps(row.download), mibps(baseline.download))]
  ] as const;
  const side = (way: string, c: IComparison) =>
    `${way.slice(0, 4)} ${fixed(c.target.median).padStart(7)} (${fixed(c.target.min)}–${fixed(c.target.max)}` +
    (isBaseline
      ? ')'
      : `; ${c.ratio.toFixed(2)}x, per round ${c.roundRatios.min.toFixed(2)}–${c.roundRatios.max.toFixed(2)}x)`);
  process.stdout.write(
    `${row.label.padEnd(44)} ${ways.map(([way, c]) => side(way, c)).join('  ')}  ${rss}\n`
  );
  if (isBaseline) {
    return;
  }
  const label = row.label.trim();
  const reference = label.startsWith('scp') ? ' (not through the bridge)' : '';
  // The bridge's stream to the S3 tier relays to the very store the baseline talks to.
  const passThrough = label.startsWith('(ii)');
  const sizeMiB = size / MIB;
  for (const [way, c] of ways) {
    recordComparison(
      {
        bench: 'storage',
        metric: `${way} ${sizeMiB} MiB: ${label}`,
        unit: 'MiB/s',
        baseline: `direct S3 SDK ${way}`,
        better: 'higher',
        ...(passThrough ? { passThrough } : {}),
        note: `one transfer per path per round${reference}`
      },
      c
    );
  }
  if (!reference) {
    record({
      bench: 'storage',
      metric: `bridge peak RSS, ${sizeMiB} MiB up and down: ${label}`,
      value: row.rss / MIB,
      unit: 'MiB',
      baseline: 'bridge RSS at rest (during the direct S3 baseline)',
      baselineValue: baseline.rss / MIB,
      better: 'lower',
      note: `the peak over ${row.upload.length} rounds each; sampled every 100 ms; files are streamed, never held whole`
    });
  }
  // Per GiB moved (up and down); every process on the path shares the machine's cores.
  const gib = (2 * size * row.upload.length) / (1024 * MIB);
  const baseGib = (2 * size * baseline.upload.length) / (1024 * MIB);
  const perGib = (cpu: IRow['cpu'], g: number) =>
    (cpu.bridge + cpu.proxy + cpu.swift + cpu.ssh + cpu.client) / g;
  const path = (cpu: IRow['cpu'], g: number) =>
    `bridge ${(cpu.bridge / g).toFixed(2)}, hub proxy ${(cpu.proxy / g).toFixed(2)}, Swift ${(cpu.swift / g).toFixed(2)}, sshd ${(cpu.ssh / g).toFixed(2)}, client ${(cpu.client / g).toFixed(2)} s/GiB`;
  process.stdout.write(
    `${''.padEnd(44)} CPU: ${path(row.cpu, gib)} (direct: ${path(baseline.cpu, baseGib)})\n`
  );
  record({
    bench: 'storage',
    metric: `CPU seconds per GiB moved, ${sizeMiB} MiB up and down: ${label}`,
    value: perGib(row.cpu, gib),
    unit: 's/GiB',
    baseline: 'the same for the direct S3 SDK (its client and Swift)',
    baselineValue: perGib(baseline.cpu, baseGib),
    better: 'lower',
    note: `${path(row.cpu, gib)}; direct: ${path(baseline.cpu, baseGib)}; the processes share the cores, so n cores move at most about n / (this) GiB/s`
  });
}

/** Measures every path for one file size; returns how many paths failed. */
async function benchSize(paths: Paths, file: IFile): Promise<number> {
  const name = (kind: string) => `${FOLDER}/${kind}-${file.size / MIB}MiB.bin`;
  let multipartMode = 'direct';
  const cases: {
    key: string;
    label: () => string;
    up: () => Promise<unknown>;
    down: () => Promise<void>;
  }[] = [
    {
      key: 'sdk',
      label: () => '(i) direct S3 SDK (baseline)',
      up: () => paths.directS3Upload(file, name('sdk')),
      down: () => paths.directS3Download(file, name('sdk'))
    },
    {
      key: 'stream',
      label: () => `(ii) bridge stream, ${S3_TIER} (s3)`,
      up: () => paths.streamedUpload(S3_TIER, file, name('stream')),
      down: () => paths.streamedDownload(S3_TIER, file, name('stream'))
    },
    {
      key: 'multipart',
      label: () => `(iii) multipart ${multipartMode}, presigned GET`,
      up: async () => {
        multipartMode = await paths.multipartUpload(file, name('multipart'));
      },
      down: () => paths.presignedDownload(file, name('multipart'))
    },
    {
      key: 'sftp',
      label: () => `(iv) bridge stream, ${SFTP_TIER} (sftp)`,
      up: () => paths.streamedUpload(SFTP_TIER, file, name('sftp')),
      down: () => paths.streamedDownload(SFTP_TIER, file, name('sftp'))
    },
    {
      key: 'sftp',
      label: () => '    scp to /scratch (reference for iv)',
      up: () => scp(file.path, `${USER}@127.0.0.1:${scratchPath(name('scp'))}`),
      down: () =>
        scp(
          `${USER}@127.0.0.1:${scratchPath(name('scp'))}`,
          `${file.path}.back`
        )
    }
  ].filter(c => c.key === 'sdk' || PATHS.has(c.key));
  process.stdout.write(
    `\n## storage: ${file.size / MIB} MiB, ${ROUNDS} alternated rounds (MiB/s: median (min–max); ratio to direct S3)\n`
  );
  const rows: IRow[] = cases.map(() => ({
    label: '',
    upload: [],
    download: [],
    rss: 0,
    cpu: { bridge: 0, proxy: 0, swift: 0, ssh: 0, client: 0 }
  }));
  const failures = new Map<number, string>();
  await alternateRounds(
    ROUNDS,
    cases.map((c, i) => async () => {
      if (failures.has(i)) {
        return;
      }
      // The baseline does not touch the bridge: its row shows the bridge at rest.
      const rss = new RssSampler(bridgePid());
      const cpuBefore = cpuNow();
      try {
        rows[i].upload.push(await timed(async () => void (await c.up())));
        rows[i].download.push(await timed(c.down));
        const cpuAfter = cpuNow();
        for (const k of Object.keys(cpuAfter) as (keyof IRow['cpu'])[]) {
          rows[i].cpu[k] += cpuAfter[k] - cpuBefore[k];
        }
      } catch (err) {
        if (i === 0) {
          throw err; // no baseline, no ratios
        }
        failures.set(i, String(err).slice(0, 300));
      } finally {
        rows[i].rss = Math.max(rows[i].rss, rss.stop());
      }
    })
  );
  cases.forEach((c, i) => (rows[i].label = c.label()));
  const baseline = rows[0];
  rows.forEach((row, i) => {
    const failure = failures.get(i);
    if (failure === undefined) {
      printRow(file.size, row, baseline);
    } else {
      process.stdout.write(`${row.label.padEnd(44)} FAILED: ${failure}\n`);
    }
  });
  return failures.size;
}

async function main(): Promise<void> {
  const credentials = JSON.parse(
    readFileSync(join(STACK_DIR, 's3', 'credentials.json'), 'utf8')
  ) as Record<string, { accessKeyId: string; secretAccessKey: string }>;
  const s3 = new S3Client({
    endpoint: 'http://127.0.0.1:8080',
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: credentials.bridge,
    // As the bridge's S3 adapter: Swift's s3api knows Content-MD5, not CRC32 trailers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED'
  });
  const token = await createUserToken(USER);
  const tiers = await bridge(Routes.tiers, token);
  if (tiers.status !== 200 && PATHS.size > 1) {
    throw new Error(
      `GET tiers: ${tiers.status} ${JSON.stringify(tiers.body)} (is the bridge built with storage tiers?)`
    );
  }
  const paths = new Paths(token, s3);
  const dir = await mkdtemp(
    join(process.env.BENCH_STORAGE_TMP ?? tmpdir(), 'bench-storage-')
  );
  let failed = 0;
  try {
    for (const size of SIZES) {
      const file = await makeFile(dir, size);
      failed += await benchSize(paths, file);
      await rm(file.path);
      await rm(`${file.path}.back`, { force: true });
    }
    const hwm = statusField(bridgePid(), 'VmHWM');
    if (hwm !== null) {
      process.stdout.write(
        `bridge VmHWM (peak RSS since it started): ${(hwm / 1024).toFixed(0)} MiB\n`
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    await paths.remove(SFTP_TIER, FOLDER);
    await paths.removeS3Folder();
    s3.destroy();
  }
  if (failed > 0) {
    throw new Error(`${failed} transfer path(s) failed (see above)`);
  }
}

main().catch(err => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
