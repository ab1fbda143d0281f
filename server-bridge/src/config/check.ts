/**
 * `hpc-bridge check-config FILE`: loads a config exactly as `serve` does (so it fails on
 * the same problems), lists every problem with its key path, adds warnings that do not
 * stop the bridge, and with `online` probes the hub, clusters, S3 stores and clouds.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { ConfigError, keyPath, loadConfig, type BridgeConfig } from './index';
import { referenceProblems } from './references';
import { onlineChecks, type IOnlineFinding } from './online';

export type FindingStatus = 'error' | 'warning' | 'ok';

export interface IFinding {
  status: FindingStatus;
  /** Key path such as `clusters[0].ssh.port`; null for the file as a whole. */
  path: string | null;
  /** Line in the file, for YAML syntax errors. */
  line?: number;
  message: string;
  /** The online check that produced it (`hub`, `ssh`, `s3`, …); absent for static ones. */
  check?: string;
}

export interface ICheckReport {
  file: string;
  ok: boolean;
  errors: number;
  warnings: number;
  /** What the file configures; null when it did not load. */
  counts: {
    clusters: number;
    profiles: number;
    tiers: number;
    models: number;
  } | null;
  findings: IFinding[];
}

export interface ICheckOptions {
  online?: boolean;
  env?: Record<string, string | undefined>;
  /** Per online check; default 5 s. */
  timeoutMs?: number;
}

export async function checkConfig(
  file: string,
  options: ICheckOptions = {}
): Promise<ICheckReport> {
  const env = options.env ?? process.env;
  let config: BridgeConfig;
  try {
    config = loadConfig(file, env);
  } catch (e) {
    if (!(e instanceof ConfigError)) {
      throw e;
    }
    const findings = e.problems.map(p => findingOfProblem(file, p));
    // A config with other problems never reaches the schema's reference checks
    // (zod skips the final transform), so check the references on the raw file too.
    const raw = rawDocument(file);
    if (raw !== undefined) {
      const seen = new Set(e.problems);
      for (const problem of referenceProblems(raw)) {
        const f: IFinding = {
          status: 'error',
          path: keyPath(problem.path),
          message: problem.message
        };
        if (!seen.has(formatFinding(file, f))) {
          findings.push(f);
        }
      }
    }
    return report(file, null, findings);
  }
  const findings = staticWarnings(config);
  if (options.online === true) {
    const online = await onlineChecks(config, {
      timeoutMs: options.timeoutMs ?? 5_000
    });
    findings.push(...online.map(onlineFinding));
  }
  return report(file, config, findings);
}

function report(
  file: string,
  config: BridgeConfig | null,
  findings: IFinding[]
): ICheckReport {
  const errors = findings.filter(f => f.status === 'error').length;
  const warnings = findings.filter(f => f.status === 'warning').length;
  return {
    file,
    ok: config !== null && errors === 0,
    errors,
    warnings,
    counts:
      config === null
        ? null
        : {
            clusters: config.clusters.length,
            profiles: config.profiles.length,
            tiers: config.storage.tiers.length,
            models: config.models.length
          },
    findings
  };
}

function onlineFinding(f: IOnlineFinding): IFinding {
  return {
    status: f.status,
    path: f.path,
    message: f.message,
    check: f.check
  };
}

/**
 * Splits one `FILE: key.path: message` line of a `ConfigError` (the format `serve`
 * prints) back into its parts.
 */
export function findingOfProblem(file: string, problem: string): IFinding {
  const rest = problem.startsWith(`${file}: `)
    ? problem.slice(file.length + 2)
    : problem;
  const line = /^line (\d+|\?): /.exec(rest);
  if (line !== null) {
    const n = Number(line[1]);
    return {
      status: 'error',
      path: null,
      ...(Number.isInteger(n) ? { line: n } : {}),
      message: rest.slice(line[0].length)
    };
  }
  const colon = rest.indexOf(': ');
  if (colon < 0 || rest.startsWith('cannot read: ')) {
    return { status: 'error', path: null, message: rest };
  }
  return {
    status: 'error',
    path: rest.slice(0, colon),
    message: rest.slice(colon + 2)
  };
}

function rawDocument(file: string): unknown {
  // loadConfig has read and parsed it already; a failure here was reported there.
  try {
    const doc = parseDocument(readFileSync(file, 'utf8'));
    return doc.errors.length > 0 ? undefined : (doc.toJS() as unknown);
  } catch {
    return undefined;
  }
}

/** What the bridge accepts but an admin probably did not mean. */
export function staticWarnings(config: BridgeConfig): IFinding[] {
  const out: IFinding[] = [];
  config.models.forEach((m, i) => {
    const absent = m.providers.filter(
      p => config.serving.providers[p] === undefined
    );
    if (absent.length > 0) {
      const offered = m.providers.filter(p => !absent.includes(p));
      out.push({
        status: 'warning',
        path: `models[${i}].providers`,
        message: `${absent.join(', ')} not configured in serving.providers: the catalog offers ${m.name} on ${offered.join(', ')} only`
      });
    }
  });
  return out;
}

/** One finding as a line: `FILE: key.path: message` (the format `serve` prints). */
export function formatFinding(file: string, f: IFinding): string {
  const where =
    f.path !== null
      ? `${f.path}: `
      : f.line !== undefined
        ? `line ${f.line}: `
        : '';
  const tag = f.status === 'error' ? '' : `${f.status}: `;
  return `${file}: ${where}${tag}${f.message}`;
}

const plural = (n: number, one: string): string =>
  `${n} ${one}${n === 1 ? '' : 's'}`;

export function summaryLine(r: ICheckReport): string {
  const warnings = r.warnings > 0 ? `, ${plural(r.warnings, 'warning')}` : '';
  if (r.ok && r.counts !== null) {
    const c = r.counts;
    return `${r.file}: OK — ${plural(c.clusters, 'cluster')}, ${plural(c.profiles, 'profile')}, ${plural(c.tiers, 'tier')}, ${plural(c.models, 'model')}${warnings}`;
  }
  return `${r.file}: ${plural(r.errors, 'problem')}${warnings}`;
}

/** The report as text: one line per finding, then the summary. */
export function formatReport(r: ICheckReport): string {
  return [
    ...r.findings.map(f => formatFinding(r.file, f)),
    summaryLine(r)
  ].join('\n');
}
