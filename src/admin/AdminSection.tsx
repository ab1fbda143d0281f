import type { BackendHistory, JobState } from '@hpc-bridge/server/contract';
import { Button } from '@jupyterlab/ui-components';
import React from 'react';
import { AdminModel, type AdminTab, type IAuditForm } from './AdminModel';
import { Alert } from '../ui/Alert';
import { download, when } from '../ui/OptionalSection';
import { DataTable } from '../ui/DataTable';
import { KernelsView } from './KernelsView';
import { Section } from '../ui/Section';
import { useTranslator } from '../ui/translator';

const JOB_STATES: JobState[] = [
  'PENDING',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT'
];

function bytes(n: number | null): string {
  if (n === null) {
    return '–';
  }
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

function JobsView(props: { model: AdminModel }): JSX.Element {
  const trans = useTranslator();
  const { model } = props;
  const [user, setUser] = React.useState(model.jobFilter.user);
  const o = model.overview;
  return (
    <div className="jp-hpc-Admin-view">
      <form
        className="jp-hpc-Admin-filters"
        onSubmit={e => {
          e.preventDefault();
          model.setJobFilter({ ...model.jobFilter, user });
        }}
      >
        <input
          className="jp-mod-styled"
          aria-label={trans.__('Filter by user')}
          placeholder={trans.__('User')}
          value={user}
          onChange={e => setUser(e.target.value)}
        />
        <select
          className="jp-mod-styled"
          aria-label={trans.__('Filter by state')}
          value={model.jobFilter.state}
          onChange={e =>
            model.setJobFilter({
              user,
              state: e.target.value as JobState | ''
            })
          }
        >
          <option value="">{trans.__('Any state')}</option>
          {JOB_STATES.map(s => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <Button type="submit" small>
          {trans.__('Apply')}
        </Button>
      </form>
      {o === null ? (
        <p className="jp-hpc-Section-empty">{trans.__('Loading…')}</p>
      ) : (
        <>
          <p
            className="jp-hpc-Admin-counts"
            role="group"
            aria-label={trans.__('Job counts')}
          >
            {trans.__('%1 jobs', o.jobs.total)}
            {Object.entries(o.jobs.counts).map(([state, n]) => (
              <span key={state} className="jp-hpc-Admin-count">
                {state} {n}
              </span>
            ))}
          </p>
          <DataTable
            className="jp-hpc-Admin-table"
            label={trans.__('Newest jobs')}
            columns={[
              { label: trans.__('Owner'), value: j => j.owner },
              { label: trans.__('Job'), value: j => j.name },
              { label: trans.__('Profile'), value: j => j.profile },
              {
                label: trans.__('State'),
                value: j => j.state,
                className: j =>
                  `jp-hpc-Admin-state jp-mod-${j.state.toLowerCase()}`
              }
            ]}
            items={o.jobs.newest}
            rowKey={j => j.id}
            rowTitle={j => `${j.id} · ${when(j.submittedAt)}`}
          />
          <h4 className="jp-hpc-Admin-subtitle">{trans.__('Endpoints')}</h4>
          {o.endpoints.length === 0 ? (
            <p className="jp-hpc-Section-empty">{trans.__('No endpoints.')}</p>
          ) : (
            <DataTable
              className="jp-hpc-Admin-table"
              label={trans.__('All endpoints')}
              columns={[
                { label: trans.__('Owner'), value: ep => ep.owner },
                { label: trans.__('Model'), value: ep => ep.model },
                { label: trans.__('Provider'), value: ep => ep.provider },
                { label: trans.__('State'), value: ep => ep.state }
              ]}
              items={o.endpoints}
              rowKey={ep => ep.id}
              rowTitle={ep => ep.name}
            />
          )}
          <h4 className="jp-hpc-Admin-subtitle">{trans.__('Tier usage')}</h4>
          <DataTable
            className="jp-hpc-Admin-table"
            label={trans.__('Tier usage')}
            columns={[
              { label: trans.__('Tier'), value: t => t.tier },
              { label: trans.__('Scope'), value: t => t.name },
              { label: trans.__('Used'), value: t => bytes(t.bytes) },
              { label: trans.__('Quota'), value: t => bytes(t.quotaBytes) }
            ]}
            items={o.tiers}
            rowKey={t => `${t.tier}/${t.scope}/${t.name}`}
            rowTitle={t =>
              t.measuredAt === null
                ? trans.__('Not measured since the bridge started')
                : trans.__('Measured %1', when(t.measuredAt))
            }
          />
        </>
      )}
    </div>
  );
}

function UsageView(props: { model: AdminModel }): JSX.Element {
  const trans = useTranslator();
  const { model } = props;
  const u = model.usage;
  return (
    <div className="jp-hpc-Admin-view">
      <div className="jp-hpc-Admin-filters">
        <select
          className="jp-mod-styled"
          aria-label={trans.__('Usage per')}
          value={model.usageBy}
          onChange={e => model.setUsageBy(e.target.value as 'user' | 'group')}
        >
          <option value="user">{trans.__('Per user')}</option>
          <option value="group">{trans.__('Per group / course')}</option>
        </select>
      </div>
      {u === null ? (
        <p className="jp-hpc-Section-empty">{trans.__('Loading…')}</p>
      ) : (
        <>
          <table className="jp-hpc-Admin-table" aria-label={trans.__('Usage')}>
            <thead>
              <tr>
                <th>
                  {u.by === 'user' ? trans.__('User') : trans.__('Group')}
                </th>
                <th>{trans.__('Jobs')}</th>
                <th>{trans.__('Core-h')}</th>
                <th>{trans.__('GPU-h')}</th>
                <th>{trans.__('Tokens')}</th>
                <th>{trans.__('Stored')}</th>
              </tr>
            </thead>
            <tbody>
              {u.rows.map(r => (
                <tr key={r.name} title={r.members?.join(', ')}>
                  <td>{r.name}</td>
                  <td>{r.jobs}</td>
                  <td>{r.coreHours.toFixed(2)}</td>
                  <td>{r.gpuHours.toFixed(2)}</td>
                  <td>{r.tokens}</td>
                  <td>{bytes(r.bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="jp-hpc-Section-footer">
            {trans.__('Since %1.', when(u.since))} {u.note}
          </p>
        </>
      )}
    </div>
  );
}

function HealthStrip(props: { backend: BackendHistory }): JSX.Element {
  const trans = useTranslator();
  const { backend } = props;
  // At most 96 cells (15 minutes each over 24 h): the worst sample of each bucket.
  const samples = backend.samples;
  const buckets = Math.min(96, samples.length);
  const cells: BackendHistory['samples'] = [];
  const rank = { ok: 0, degraded: 1, down: 2 };
  for (let i = 0; i < buckets; i++) {
    const from = Math.floor((i * samples.length) / buckets);
    const to = Math.floor(((i + 1) * samples.length) / buckets);
    const slice = samples.slice(from, Math.max(to, from + 1));
    cells.push(
      slice.reduce((w, s) => (rank[s.status] > rank[w.status] ? s : w))
    );
  }
  const ratio =
    backend.okRatio === null
      ? '–'
      : `${Math.round(backend.okRatio * 1000) / 10}%`;
  return (
    <li className="jp-hpc-Admin-health">
      <span className="jp-hpc-Admin-healthName">{backend.name}</span>
      <span
        className="jp-hpc-Admin-strip"
        role="img"
        aria-label={trans.__('%1: %2 ok', backend.name, ratio)}
      >
        {cells.map((c, i) => (
          <span
            key={i}
            className={`jp-hpc-Admin-cell jp-mod-${c.status}`}
            title={`${when(c.ts)} · ${c.status} · ${Math.round(c.latencyMs)} ms${
              c.detail ? ` · ${c.detail}` : ''
            }`}
          />
        ))}
      </span>
      <span className="jp-hpc-Admin-ratio">{ratio}</span>
    </li>
  );
}

function HealthView(props: { model: AdminModel }): JSX.Element {
  const trans = useTranslator();
  const h = props.model.health;
  if (h === null) {
    return <p className="jp-hpc-Section-empty">{trans.__('Loading…')}</p>;
  }
  return (
    <div className="jp-hpc-Admin-view">
      {h.backends.length === 0 ? (
        <p className="jp-hpc-Section-empty">
          {trans.__(
            'No samples yet: the bridge checks its backends every minute.'
          )}
        </p>
      ) : (
        <ul className="jp-hpc-Admin-healthList">
          {h.backends.map(b => (
            <HealthStrip key={b.name} backend={b} />
          ))}
        </ul>
      )}
      <p className="jp-hpc-Section-footer">{trans.__('The last 24 hours.')}</p>
    </div>
  );
}

function AuditView(props: { model: AdminModel }): JSX.Element {
  const trans = useTranslator();
  const { model } = props;
  const form = model.auditForm;
  const [error, setError] = React.useState<string | null>(null);
  const set =
    (key: keyof IAuditForm) =>
    (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
      model.setAuditForm({ ...form, [key]: e.target.value });
  const run = (fn: () => Promise<void>) => () => {
    setError(null);
    fn().catch((e: unknown) =>
      setError(e instanceof Error ? e.message : String(e))
    );
  };
  const field = (key: keyof IAuditForm, label: string, type = 'text') => (
    <label className="jp-hpc-Admin-field">
      <span>{label}</span>
      <input
        className="jp-mod-styled"
        type={type}
        value={form[key]}
        onChange={set(key)}
      />
    </label>
  );
  const records = model.auditRecords;
  return (
    <div className="jp-hpc-Admin-view">
      <form
        className="jp-hpc-Admin-auditForm"
        aria-label={trans.__('Audit search')}
        onSubmit={e => {
          e.preventDefault();
          run(() => model.search())();
        }}
      >
        {field('user', trans.__('User'))}
        {field('tier', trans.__('Tier'))}
        {field('path', trans.__('Path contains'))}
        {field('action', trans.__('Action'))}
        <label className="jp-hpc-Admin-field">
          <span>{trans.__('Outcome')}</span>
          <select
            className="jp-mod-styled"
            value={form.outcome}
            onChange={set('outcome')}
          >
            <option value="">{trans.__('Any')}</option>
            <option value="ok">{trans.__('ok')}</option>
            <option value="refused">{trans.__('refused')}</option>
            <option value="failed">{trans.__('failed')}</option>
          </select>
        </label>
        {field('since', trans.__('Since'), 'datetime-local')}
        {field('until', trans.__('Until'), 'datetime-local')}
        <div className="jp-hpc-Admin-buttons">
          <Button type="submit" small>
            {trans.__('Search')}
          </Button>
          <Button
            small
            minimal
            onClick={run(async () =>
              download(await model.exportAudit('jsonl'), 'audit.jsonl')
            )}
          >
            {trans.__('Export JSONL')}
          </Button>
          <Button
            small
            minimal
            onClick={run(async () =>
              download(await model.exportAudit('csv'), 'audit.csv')
            )}
          >
            {trans.__('Export CSV')}
          </Button>
        </div>
      </form>
      {error !== null && <Alert message={error} />}
      {records !== null &&
        (records.length === 0 ? (
          <p className="jp-hpc-Section-empty">
            {trans.__('No matching records.')}
          </p>
        ) : (
          <DataTable
            className="jp-hpc-Admin-table"
            label={trans.__('Audit records')}
            columns={[
              { label: trans.__('Time'), value: r => when(r.ts) },
              { label: trans.__('User'), value: r => r.user },
              { label: trans.__('Action'), value: r => r.action },
              {
                label: trans.__('Target'),
                value: r => r.target,
                className: () => 'jp-hpc-Admin-target'
              },
              {
                label: trans.__('Outcome'),
                value: r => String(r.details.outcome ?? '')
              }
            ]}
            items={records}
            rowKey={r => String(r.id)}
          />
        ))}
    </div>
  );
}

/** The Admin section: tabs over all jobs and endpoints, usage, health, audit. */
export function AdminSection(props: { model: AdminModel }): JSX.Element | null {
  const trans = useTranslator();
  const { model } = props;
  if (model.isAdmin !== true) {
    return null;
  }
  const tabs: [AdminTab, string][] = [
    ['jobs', trans.__('Jobs & endpoints')],
    ['kernels', trans.__('Kernels')],
    ['usage', trans.__('Usage')],
    ['health', trans.__('Health')],
    ['audit', trans.__('Audit')]
  ];
  const view = {
    jobs: <JobsView model={model} />,
    kernels: <KernelsView model={model} />,
    usage: <UsageView model={model} />,
    health: <HealthView model={model} />,
    audit: <AuditView model={model} />
  }[model.tab];
  return (
    <Section
      id="admin"
      title={trans.__('Admin')}
      className="jp-hpc-Admin"
      refreshLabel={trans.__('Refresh the admin view')}
      onRefresh={() => void model.refresh()}
    >
      <div className="jp-hpc-Admin-tabs" role="tablist">
        {tabs.map(([id, label]) => (
          <button
            key={id}
            role="tab"
            aria-selected={model.tab === id}
            className={`jp-hpc-Admin-tab${model.tab === id ? ' jp-mod-active' : ''}`}
            onClick={() => model.setTab(id)}
          >
            {label}
          </button>
        ))}
      </div>
      {model.error !== null && model.tab !== 'audit' && (
        <Alert message={model.error.message} onRetry={() => model.refresh()} />
      )}
      <div role="tabpanel">{view}</div>
    </Section>
  );
}
