import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BridgeConfig } from '../../src/config';
import { renderReplicaScript } from '../../src/adapters/ssh/replica-script';
import { withEnvironment } from '../../src/endpoints/recipe';
import { DomainError } from '../../src/domain-error';
import { statusOf } from '../../src/errors';
import { renderBatchScript } from '../../src/adapters/ssh/batch-script';
import {
  checkEndpointPolicy,
  checkJobPolicy,
  resolveTierUses,
  tierEnvironment,
  tierVariable
} from '../../src/policy/data-classes';
import { EndpointService } from '../../src/endpoints/service';
import { searchAudit } from '../../src/admin/repository/audit';
import { resolveTierUsesAudited } from '../../src/storage/tier-use-audit';
import { demoConfig } from './demo-config';
import {
  controllerFixture,
  SERVING_CONFIG,
  servingConfig,
  type IControllerFixture
} from './endpoints-fakes';

const ALICE = { name: 'alice', groups: ['ml101', 'climate', 'medical'] };
const BOB = { name: 'bob', groups: ['ml101', 'genomics'] };

const S3 = [
  {
    name: 'demo',
    endpoint: 'http://s3.example:8080',
    accessKeyId: { value: 'a' },
    secretAccessKey: { value: 's' }
  },
  {
    name: 'other',
    endpoint: 'http://s3.other:9000',
    accessKeyId: { value: 'a' },
    secretAccessKey: { value: 's' }
  }
];

const TIERS = [
  {
    name: 'scratch',
    title: 'Scratch',
    class: 'scratch',
    sftp: { cluster: 'demo', path: '/scratch/{user}' }
  },
  {
    name: 'project',
    title: 'Project',
    class: 'project',
    s3: { store: 'demo', bucket: 'hpc-project', prefix: '{group}/' },
    read: ['ml101', 'climate', 'genomics'],
    write: ['ml101', 'climate', 'genomics']
  },
  {
    name: 'sensitive',
    title: 'Sensitive',
    class: 'sensitive',
    s3: { store: 'demo', bucket: 'hpc-sensitive', prefix: '{group}/' },
    read: ['medical'],
    write: ['medical']
  },
  {
    name: 'elsewhere',
    title: 'On another store',
    class: 'archive',
    s3: { store: 'other', bucket: 'hpc-other', prefix: '{user}/' }
  }
];

function config(
  serving: Record<string, unknown> = {},
  cluster: Record<string, unknown> = { compliantPartitions: ['gpu'] }
): BridgeConfig {
  return demoConfig(
    {
      s3: S3,
      storage: { tiers: TIERS },
      serving: {
        providers: {
          local: { compliant: false },
          slurm: { cluster: 'demo', partition: 'gpu', compliant: true }
        },
        ...serving
      }
    },
    { userMapping: { table: { alice: 'a_lice', bob: 'bob' } }, ...cluster }
  );
}

function thrown(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DomainError) {
      return e;
    }
    throw e;
  }
  throw new Error('did not throw');
}

describe('resolveTierUses', () => {
  const c = config();

  it('gives each tier its location: the cluster path as the account, the S3 URL of the group folder', () => {
    const uses = resolveTierUses(c, ALICE, ['scratch', 'sensitive']);
    expect(
      uses.map(u => [u.ref, u.variable, u.location, u.s3Endpoint])
    ).toEqual([
      ['scratch', 'HPCB_TIER_SCRATCH', '/scratch/a_lice', null],
      [
        'sensitive:medical',
        'HPCB_TIER_SENSITIVE',
        's3://hpc-sensitive/medical/',
        'http://s3.example:8080'
      ]
    ]);
    expect(tierEnvironment(uses)).toEqual({
      HPCB_TIER_SCRATCH: '/scratch/a_lice',
      HPCB_TIER_SENSITIVE: 's3://hpc-sensitive/medical/',
      HPCB_S3_ENDPOINT: 'http://s3.example:8080'
    });
  });

  it('answers a tier the user cannot read like a missing one', () => {
    for (const ref of ['sensitive', 'sensitive:medical', 'nope']) {
      const e = thrown(() => resolveTierUses(c, BOB, [ref]));
      expect([statusOf(e.code), e.message]).toEqual([
        404,
        `No storage tier named "${ref.split(':')[0]}"`
      ]);
    }
  });

  it('takes the named group folder, the only one, or asks which', () => {
    expect(resolveTierUses(c, BOB, ['project:genomics'])[0]?.location).toBe(
      's3://hpc-project/genomics/'
    );
    expect(
      resolveTierUses(c, { name: 'x', groups: ['climate'] }, ['project'])[0]
        ?.ref
    ).toBe('project:climate');
    const several = thrown(() => resolveTierUses(c, BOB, ['project']));
    expect([statusOf(several.code), several.message]).toEqual([
      400,
      'Tier project has one folder per group and you are in several: name one, e.g. "project:genomics" or "project:ml101"'
    ]);
    const notMine = thrown(() => resolveTierUses(c, BOB, ['project:climate']));
    expect([statusOf(notMine.code), notMine.message]).toEqual([
      403,
      'project: "climate" is not one of your groups on this tier'
    ]);
    expect(
      thrown(() => resolveTierUses(c, BOB, ['scratch:ml101'])).message
    ).toBe('Tier scratch has no group folders: write "scratch"');
  });

  it('refuses a tier named twice and tiers on two S3 stores', () => {
    expect(
      thrown(() => resolveTierUses(c, BOB, ['scratch', 'scratch'])).message
    ).toBe(
      'Tier scratch is named twice; a job or an endpoint uses each tier once'
    );
    expect(
      thrown(() => resolveTierUses(c, BOB, ['project:ml101', 'elsewhere']))
        .message
    ).toBe(
      'Tiers project, elsewhere are on different S3 stores; one job or endpoint may use tiers of one S3 store (HPCB_S3_ENDPOINT)'
    );
  });

  it('audits attempts on a sensitive tier the user may not read as refused', () => {
    const audit = jest.fn();
    expect(() =>
      resolveTierUsesAudited(
        c,
        { audit },
        BOB,
        ['sensitive'],
        'job.uses-tier',
        { name: 'j' }
      )
    ).toThrow('No storage tier named "sensitive"');
    expect(audit.mock.calls).toEqual([
      [
        {
          user: 'bob',
          action: 'job.uses-tier',
          target: 'sensitive',
          details: {
            name: 'j',
            outcome: 'refused',
            reason: 'No storage tier named "sensitive" for bob'
          }
        }
      ]
    ]);
  });

  it('names variables after the tier', () => {
    expect(tierVariable('cold-archive2')).toBe('HPCB_TIER_COLD_ARCHIVE2');
  });
});

describe('the data-class rules', () => {
  const c = config();
  const demo = c.clusters[0] as BridgeConfig['clusters'][number];
  const sensitive = resolveTierUses(c, ALICE, ['sensitive', 'scratch']);
  const plain = resolveTierUses(c, ALICE, ['scratch', 'project:climate']);

  it('keeps sensitive data on compliant partitions, naming the rule', () => {
    expect(() => checkJobPolicy(sensitive, demo, 'gpu')).not.toThrow();
    expect(() => checkJobPolicy(plain, demo, 'cpu')).not.toThrow();
    const e = thrown(() => checkJobPolicy(sensitive, demo, 'cpu'));
    expect([statusOf(e.code), e.code, e.message, e.details]).toEqual([
      403,
      'policy_refused',
      "Refused by the data-class rule 'sensitive data only on compliant partitions': tier sensitive is sensitive, partition cpu is not compliant (compliant: gpu)",
      {
        rule: 'sensitive data only on compliant partitions',
        tiers: ['sensitive'],
        partition: 'cpu',
        compliantPartitions: ['gpu']
      }
    ]);
    const none = config({ providers: {} }, {})
      .clusters[0] as BridgeConfig['clusters'][number];
    expect(thrown(() => checkJobPolicy(sensitive, none, 'gpu')).message).toBe(
      "Refused by the data-class rule 'sensitive data only on compliant partitions': tier sensitive is sensitive, partition gpu is not compliant (compliant: none)"
    );
  });

  it('keeps sensitive data on compliant providers, the fallback too', () => {
    expect(() =>
      checkEndpointPolicy(sensitive, c.serving, 'slurm', null)
    ).not.toThrow();
    expect(() =>
      checkEndpointPolicy(plain, c.serving, 'local', 'slurm')
    ).not.toThrow();
    expect(
      thrown(() => checkEndpointPolicy(sensitive, c.serving, 'local', null))
        .message
    ).toBe(
      "Refused by the data-class rule 'sensitive data only on compliant serving providers': tier sensitive is sensitive, provider local is not compliant (compliant: slurm)"
    );
    const fallback = thrown(() =>
      checkEndpointPolicy(sensitive, c.serving, 'slurm', 'local')
    );
    expect([fallback.code, fallback.message]).toEqual([
      'policy_refused',
      "Refused by the data-class rule 'sensitive data only on compliant serving providers': tier sensitive is sensitive, fallback provider local is not compliant (compliant: slurm)"
    ]);
  });
});

describe('the environment in job and replica scripts', () => {
  let dir: string;
  let fake: string;
  const HOSTILE = `/x/it's $(touch /tmp/pwned) \`id\` "q" ; rm -rf ~`;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hpc-policy-'));
    fake = join(dir, 'fake-python');
    writeFileSync(
      fake,
      '#!/bin/sh\nprintf "%s|%s\\n" "$HPCB_TIER_SCRATCH" "$HPCB_S3_ENDPOINT"\n'
    );
    chmodSync(fake, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exports each value quoted, so that the job sees exactly it', () => {
    const script = renderBatchScript({
      jobName: 'j',
      workdir: dir,
      partition: 'gpu',
      resources: { timeMinutes: 1, cpus: 1, memoryMB: 100, gpus: 0 },
      arraySize: null,
      python: fake,
      env: { HPCB_TIER_SCRATCH: HOSTILE, HPCB_S3_ENDPOINT: 'http://s3:8080' }
    });
    expect(script).toContain(
      `export HPCB_TIER_SCRATCH='/x/it'\\''s $(touch /tmp/pwned) \`id\` "q" ; rm -rf ~'`
    );
    const file = join(dir, 'job.sbatch');
    writeFileSync(file, script);
    expect(
      execFileSync('/bin/bash', [file], {
        cwd: dir,
        env: { PATH: '/usr/bin:/bin' },
        encoding: 'utf8'
      })
    ).toBe(`${HOSTILE}|http://s3:8080\n`);
  });

  it('refuses a variable name that is not a plain identifier', () => {
    expect(() =>
      renderBatchScript({
        jobName: 'j',
        workdir: dir,
        partition: 'gpu',
        resources: { timeMinutes: 1, cpus: 1, memoryMB: 100, gpus: 0 },
        arraySize: null,
        python: fake,
        env: { 'X;id': 'v' }
      })
    ).toThrow('invalid variable name for a batch script: "X;id"');
  });

  it('exports the tiers in a replica script before the recipe runs', () => {
    const script = renderReplicaScript({
      jobName: 'r',
      workdir: '/home/a/r',
      partition: 'gpu',
      resources: { timeMinutes: 1, cpus: 1, memoryMB: 100, gpus: 1 },
      argv: ['/bin/server', '--port', '{port}'],
      python: '/usr/bin/python3',
      key: { env: 'LLAMA_API_KEY', file: '/home/a/r/upstream.key' },
      env: { HPCB_TIER_SENSITIVE: 's3://b/medical/' }
    });
    const lines = script.split('\n');
    expect(lines.indexOf('export HPCB_TIER_SENSITIVE=s3://b/medical/')).toBe(
      lines.indexOf('set -euo pipefail') + 1
    );
  });

  it('runs a cloud replica under env with the variables as words of its argv', () => {
    expect(
      withEnvironment(['/bin/server', '-p', '{port}'], {
        HPCB_TIER_ARCHIVE: "s3://b/it's/"
      })
    ).toEqual([
      '/usr/bin/env',
      "HPCB_TIER_ARCHIVE=s3://b/it's/",
      '/bin/server',
      '-p',
      '{port}'
    ]);
    expect(withEnvironment(['/bin/server'], {})).toEqual(['/bin/server']);
    expect(() => withEnvironment(['/bin/server'], { HPCB_X: 'a\nb' })).toThrow(
      'invalid variable value for a recipe'
    );
  });
});

describe('compliance flags in the config', () => {
  it('default to nothing compliant', () => {
    const c = demoConfig({
      serving: {
        providers: { local: {}, slurm: { cluster: 'demo', partition: 'gpu' } }
      }
    });
    expect(c.clusters[0]?.compliantPartitions).toEqual([]);
    expect(c.serving.providers.local?.compliant).toBe(false);
    expect(c.serving.providers.slurm?.compliant).toBe(false);
  });

  it('refuse a duplicate partition and a compliant slurm provider on a non-compliant partition', () => {
    expect(() =>
      demoConfig(
        {
          serving: {
            providers: {
              slurm: { cluster: 'demo', partition: 'cpu', compliant: true }
            }
          }
        },
        { compliantPartitions: ['gpu', 'gpu', 'bad name'] }
      )
    ).toThrow(
      expect.objectContaining({
        problems: expect.arrayContaining([
          expect.stringMatching(
            /clusters\[0\]\.compliantPartitions\[2\]: a partition name$/
          ),
          expect.stringMatching(
            /clusters\[0\]\.compliantPartitions: duplicate partition$/
          )
        ])
      })
    );
    expect(() =>
      demoConfig(
        {
          serving: {
            providers: {
              slurm: { cluster: 'demo', partition: 'cpu', compliant: true }
            }
          }
        },
        { compliantPartitions: ['gpu'] }
      )
    ).toThrow(
      'serving.providers.slurm.compliant: the slurm provider runs on partition "cpu", which cluster "demo" does not list in compliantPartitions'
    );
  });
});

describe('an endpoint that uses tiers', () => {
  function fixture(localCompliant: boolean) {
    const c = servingConfig({
      serving: {
        ...SERVING_CONFIG.serving,
        providers: { local: { maxReplicas: 4, compliant: localCompliant } }
      },
      s3: S3,
      storage: { tiers: TIERS.filter(t => 's3' in t) }
    });
    const f = controllerFixture(c);
    const service = new EndpointService({
      config: c,
      table: f.table,
      controller: f.controller,
      store: f.store
    });
    return { f, service };
  }
  const user = { ...ALICE, roles: [], instructorOf: [], admin: false };
  const uses = (f: IControllerFixture) =>
    searchAudit(f.store, { action: 'endpoint.uses-tier', limit: 10 }).map(r => [
      r.user,
      r.target,
      r.details.outcome
    ]);

  it('hands every replica the locations, and audits the sensitive use', async () => {
    const { f, service } = fixture(true);
    const ep = service.create(user, {
      name: 'reader',
      model: 'tiny-random',
      provider: 'local',
      tiers: ['sensitive', 'project:climate']
    });
    expect(ep.tiers).toEqual(['sensitive:medical', 'project:climate']);
    await f.controller.tick();
    expect([...f.provider.replicas.values()].map(r => r.spec.env)).toEqual([
      {
        HPCB_TIER_SENSITIVE: 's3://hpc-sensitive/medical/',
        HPCB_TIER_PROJECT: 's3://hpc-project/climate/',
        HPCB_S3_ENDPOINT: 'http://s3.example:8080'
      }
    ]);
    expect(uses(f)).toEqual([['alice', 'sensitive:medical', 'ok']]);
  });

  it('is refused on a non-compliant provider, creates nothing and audits the refusal', () => {
    const { f, service } = fixture(false);
    expect(() =>
      service.create(user, {
        name: 'reader',
        model: 'tiny-random',
        provider: 'local',
        tiers: ['sensitive']
      })
    ).toThrow(
      "Refused by the data-class rule 'sensitive data only on compliant serving providers': tier sensitive is sensitive, provider local is not compliant (compliant: none)"
    );
    expect(f.table.list()).toEqual([]);
    expect(uses(f)).toEqual([['alice', 'sensitive:medical', 'refused']]);
  });
});
