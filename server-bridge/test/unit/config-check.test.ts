import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkConfig,
  findingOfProblem,
  formatReport,
  type ICheckReport
} from '../../src/config/check';
import { loadConfig } from '../../src/config';
import { runCheckConfig } from '../../src/main';

const HOST_KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC3o5Pn8Lq9ZOPxgz35GHBIqcutqA8RtnCTRnqIpR0Yb root@host\n';
const ENV = { HPC_BRIDGE_SECRET_KEY: 'ab'.repeat(32) };
const SERVICE_KEY = 'PRIVATE-SERVICE-KEY-TEXT';
const S3_SECRET = 'S3-SECRET-TEXT';

/** A clean config in a fresh directory, with `replace` applied to its text. */
function configFile(
  replace: (yaml: string) => string = y => y,
  files: Record<string, string> = {}
): string {
  const d = mkdtempSync(join(tmpdir(), 'hpc-bridge-check-'));
  writeFileSync(join(d, 'host.pub'), HOST_KEY);
  writeFileSync(join(d, 'service_key'), `${SERVICE_KEY}\n`);
  writeFileSync(join(d, 's3.secret'), `${S3_SECRET}\n`);
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(d, name), text);
  }
  const file = join(d, 'config.yaml');
  writeFileSync(file, replace(GOOD));
  return file;
}

const GOOD = `
hub: { apiUrl: http://127.0.0.1:8081/hub/api, apiToken: { value: HUB-TOKEN-TEXT } }
store: { path: ":memory:" }
clusters:
  - name: demo
    ssh: { host: 127.0.0.1, port: 2222, hostKeyFile: host.pub, serviceUser: hpcbridge, serviceKey: { file: service_key } }
profiles:
  - name: cpu-small
    title: CPU, small
    cluster: demo
    partition: cpu
    timeMinutes: { default: 10, max: 60 }
    cpus: { default: 1, max: 2 }
    memoryMB: { default: 500, max: 4000 }
    gpus: { default: 0, max: 0 }
s3:
  - name: demo
    endpoint: http://127.0.0.1:8080
    accessKeyId: { value: "bridge:bridge" }
    secretAccessKey: { file: s3.secret }
storage:
  tiers:
    - { name: scratch, title: Scratch, class: scratch, sftp: { cluster: demo, path: "/scratch/{user}" } }
    - { name: archive, title: Archive, class: archive, s3: { store: demo, bucket: hpc-archive } }
serving:
  providers:
    local: { maxReplicas: 2 }
    slurm: { cluster: demo, partition: gpu }
recipes:
  - name: llama-server
    command: ["/opt/llama/bin/llama-server", "-m", "{model}", "--port", "{port}"]
models:
  - name: tiny
    title: Tiny
    recipe: llama-server
    path: /opt/models/tiny.gguf
    resources: { cpus: 1, memoryMB: 1000, gpus: 0, timeMinutes: 60 }
    providers: [local, slurm]
`;

/** The report's findings as `path: message` lines (without the file). */
function lines(report: ICheckReport): string[] {
  return formatReport(report)
    .split('\n')
    .map(l => l.slice(report.file.length + 2));
}

describe('check-config', () => {
  it('passes a clean config with a summary of what it configures', async () => {
    const file = configFile();
    const report = await checkConfig(file, { env: ENV });
    expect(report).toMatchObject({ ok: true, errors: 0, warnings: 0 });
    expect(formatReport(report)).toBe(
      `${file}: OK — 1 cluster, 1 profile, 2 tiers, 1 model`
    );
  });

  it('reports a profile on an unknown cluster with its key path', async () => {
    const file = configFile(y =>
      y.replace('cluster: demo\n', 'cluster: hpc2\n')
    );
    const report = await checkConfig(file, { env: ENV });
    expect(report.ok).toBe(false);
    expect(lines(report)).toEqual([
      'profiles[0].cluster: no cluster named "hpc2"',
      '1 problem'
    ]);
    // serve loads the file the same way and refuses to start on the same problem
    expect(() => loadConfig(file, ENV)).toThrow(
      `${file}: profiles[0].cluster: no cluster named "hpc2"`
    );
  });

  it('reports a model with an unknown recipe', async () => {
    const file = configFile(y =>
      y.replace('recipe: llama-server', 'recipe: vllm')
    );
    expect(lines(await checkConfig(file, { env: ENV }))).toEqual([
      'models[0].recipe: no recipe named "vllm"',
      '1 problem'
    ]);
  });

  it('reports duplicate names in each list', async () => {
    const file = configFile(y =>
      y
        .replace(
          '    - { name: archive,',
          '    - { name: scratch, title: Again, class: archive, s3: { store: demo, bucket: hpc-b } }\n    - { name: archive,'
        )
        .replace(
          'recipes:\n',
          'recipes:\n  - name: llama-server\n    command: ["/bin/x", "{port}"]\n'
        )
    );
    expect(lines(await checkConfig(file, { env: ENV }))).toEqual([
      'storage.tiers[1].name: duplicate name "scratch"',
      'recipes[1].name: duplicate name "llama-server"',
      '2 problems'
    ]);
  });

  it('names a missing or empty secret file by its path and never prints a secret', async () => {
    const file = configFile(
      y =>
        y
          .replace('{ file: service_key }', '{ file: no_such_key }')
          .replace('{ file: s3.secret }', '{ file: empty.secret }'),
      { 'empty.secret': '\n' }
    );
    const report = await checkConfig(file, { env: ENV });
    const dir = file.replace(/\/config\.yaml$/, '');
    expect(lines(report)).toEqual([
      `clusters[0].ssh.serviceKey: cannot read secret file ${dir}/no_such_key: no such file`,
      `s3[0].secretAccessKey: secret file ${dir}/empty.secret is empty`,
      '2 problems'
    ]);
    const json = JSON.stringify(report);
    for (const secret of ['HUB-TOKEN-TEXT', SERVICE_KEY, S3_SECRET]) {
      expect(json).not.toContain(secret);
    }
  });

  it('gives the line of a YAML syntax error', async () => {
    // Line 3 repeats the key of line 2.
    const file = configFile(y => y.replace('store: {', 'hub: {}\nstore: {'));
    const report = await checkConfig(file, { env: ENV });
    expect(report.ok).toBe(false);
    expect(report.counts).toBeNull();
    expect(report.findings[0]).toEqual({
      status: 'error',
      path: null,
      line: 3,
      message: expect.stringMatching(/unique/)
    });
    expect(formatReport(report)).toMatch(
      new RegExp(`^${file}: line 3: .+\\n${file}: \\d+ problems?$`)
    );
  });

  it('lists several problems at once, references included', async () => {
    const file = configFile(y =>
      y
        .replace('port: 2222', 'port: 99999')
        .replace('cluster: demo\n', 'cluster: hpc2\n')
        .replace('store: demo,', 'store: ceph,')
        .replace('recipe: llama-server', 'recipe: vllm')
        .replace('class: archive', 'class: cold')
        .replace('slurm: { cluster: demo', 'slurm: { cluster: gone')
    );
    const report = await checkConfig(file, { env: ENV });
    expect(lines(report)).toEqual([
      'clusters[0].ssh.port: Too big: expected number to be <=65535',
      expect.stringMatching(/^storage\.tiers\[1\]\.class: .*"archive"/),
      'profiles[0].cluster: no cluster named "hpc2"',
      'storage.tiers[1].s3.store: no s3 store named "ceph"',
      'serving.providers.slurm.cluster: no cluster named "gone"',
      'models[0].recipe: no recipe named "vllm"',
      '6 problems'
    ]);
  });

  it('reports each broken reference the same way as serve, alone or beside other problems', async () => {
    const breaks: [string, (y: string) => string][] = [
      ['profile', y => y.replace('cluster: demo\n', 'cluster: hpc2\n')],
      ['s3 tier', y => y.replace('store: demo,', 'store: ceph,')],
      [
        'sftp tier',
        y => y.replace('sftp: { cluster: demo', 'sftp: { cluster: hpc3')
      ],
      [
        'slurm provider',
        y => y.replace('slurm: { cluster: demo', 'slurm: { cluster: gone')
      ],
      ['model', y => y.replace('recipe: llama-server', 'recipe: vllm')]
    ];
    const otherProblem = (y: string): string =>
      y.replace('port: 2222', 'port: 99999');
    for (const [what, broken] of breaks) {
      const file = configFile(broken);
      // serve: the schema's final step finds it (the only problem)
      let served: string[] = [];
      try {
        loadConfig(file, ENV);
      } catch (e) {
        served = (e as { problems: string[] }).problems;
      }
      expect({ what, served: served.length }).toEqual({ what, served: 1 });
      const checked = await checkConfig(file, { env: ENV });
      expect({ what, lines: lines(checked) }).toEqual({
        what,
        lines: [served[0]?.slice(file.length + 2), '1 problem']
      });
      // check-config beside another problem: zod skips the final step, the file is checked
      const worse = configFile(y => otherProblem(broken(y)));
      const both = await checkConfig(worse, { env: ENV });
      expect({ what, lines: lines(both) }).toEqual({
        what,
        lines: [
          'clusters[0].ssh.port: Too big: expected number to be <=65535',
          served[0]?.slice(file.length + 2),
          '2 problems'
        ]
      });
    }
  });

  it('warns about a model whose providers are not all configured, and still passes', async () => {
    const file = configFile(y =>
      y.replace('providers: [local, slurm]', 'providers: [local, openstack]')
    );
    const report = await checkConfig(file, { env: ENV });
    expect(report).toMatchObject({ ok: true, warnings: 1 });
    expect(lines(report)).toEqual([
      'models[0].providers: warning: openstack not configured in serving.providers: the catalog offers tiny on local only',
      'OK — 1 cluster, 1 profile, 2 tiers, 1 model, 1 warning'
    ]);
  });

  it('exits 0 when clean and 1 with problems, printing text or JSON', async () => {
    const out: string[] = [];
    const write = (t: string): void => {
      out.push(t);
    };
    const clean = configFile();
    const args = { command: 'check-config', online: false } as const;
    expect(
      await runCheckConfig({ ...args, file: clean, json: false }, ENV, write)
    ).toBe(0);
    expect(out.pop()).toBe(
      `${clean}: OK — 1 cluster, 1 profile, 2 tiers, 1 model\n`
    );

    const broken = configFile(y =>
      y.replace('cluster: demo\n', 'cluster: hpc2\n')
    );
    expect(
      await runCheckConfig({ ...args, file: broken, json: true }, ENV, write)
    ).toBe(1);
    expect(JSON.parse(out.pop() ?? '')).toEqual({
      file: broken,
      ok: false,
      errors: 1,
      warnings: 0,
      counts: null,
      findings: [
        {
          status: 'error',
          path: 'profiles[0].cluster',
          message: 'no cluster named "hpc2"'
        }
      ]
    });
    expect(
      await runCheckConfig({ ...args, file: clean, json: true }, {}, write)
    ).toBe(1);
    expect(JSON.parse(out.pop() ?? '')).toMatchObject({
      ok: false,
      findings: [
        {
          path: 'secretKey',
          message: expect.stringMatching(/^required when clusters/)
        }
      ]
    });
  });

  it('reads the problem lines serve prints back into their parts', () => {
    expect(findingOfProblem('/c.yaml', '/c.yaml: a.b[0]: x: y')).toEqual({
      status: 'error',
      path: 'a.b[0]',
      message: 'x: y'
    });
    expect(
      findingOfProblem('/c.yaml', '/c.yaml: cannot read: no such file')
    ).toEqual({
      status: 'error',
      path: null,
      message: 'cannot read: no such file'
    });
  });
});
