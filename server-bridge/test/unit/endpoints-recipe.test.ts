import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  keyEnvironment,
  renderArgv,
  withAddress
} from '../../src/endpoints/recipe';
import {
  renderReplicaScript,
  shellCommandWithAddress
} from '../../src/adapters/ssh/replica-script';

const KEY = 'k'.repeat(32);
const RECIPE = {
  command: [
    '/opt/llama/bin/llama-server',
    '-m',
    '{model}',
    '--host={host}',
    '--port',
    '{port}',
    '-t{threads}'
  ]
};

describe('recipes', () => {
  it('substitutes placeholders inside tokens, never splitting or joining them', () => {
    const argv = renderArgv(RECIPE, {
      model: '/models/a model.gguf',
      threads: 3
    });
    expect(argv).toEqual([
      '/opt/llama/bin/llama-server',
      '-m',
      '/models/a model.gguf',
      '--host={host}',
      '--port',
      '{port}',
      '-t3'
    ]);
    expect(withAddress(argv, '127.0.0.1', 4321)).toEqual([
      '/opt/llama/bin/llama-server',
      '-m',
      '/models/a model.gguf',
      '--host=127.0.0.1',
      '--port',
      '4321',
      '-t3'
    ]);
  });

  it('rejects values outside their safe form', () => {
    const ok = { model: '/m.gguf', threads: 1 };
    expect(() => renderArgv(RECIPE, { ...ok, model: 'relative.gguf' })).toThrow(
      /model path/
    );
    expect(() => renderArgv(RECIPE, { ...ok, model: '/m\n.gguf' })).toThrow(
      /model path/
    );
    expect(() => renderArgv(RECIPE, { ...ok, threads: 0 })).toThrow(/threads/);
    expect(() => withAddress(['x', '{host}'], 'a b', 1)).toThrow(/host/);
    expect(() => withAddress(['x', '{port}'], 'h', 70000)).toThrow(/port/);
  });

  it('hands the key over as one environment entry, checked', () => {
    expect(keyEnvironment('LLAMA_API_KEY', KEY)).toEqual({
      LLAMA_API_KEY: KEY
    });
    expect(() => keyEnvironment('LLAMA_API_KEY', 'short')).toThrow(
      /upstream key/
    );
    expect(() => keyEnvironment('LLAMA_API_KEY', `${KEY} x`)).toThrow(
      /upstream key/
    );
    expect(() => keyEnvironment('A=B', KEY)).toThrow(/variable name/);
  });

  it('quotes every word for the shell; a real bash gets exactly the argv back', () => {
    const argv = [
      '/usr/bin/printf',
      '%s\\n',
      "it's $(touch /tmp/pwned) `id`; rm -rf /",
      '--port={port}',
      '{host}:{port}',
      ''
    ];
    const line = shellCommandWithAddress(argv, 'HPCB_HOST', 'HPCB_PORT');
    const out = execFileSync(
      '/bin/bash',
      ['-c', `HPCB_HOST=10.0.0.5; HPCB_PORT=4242; exec ${line}`],
      {
        encoding: 'utf8'
      }
    );
    expect(out.split('\n')).toEqual([
      "it's $(touch /tmp/pwned) `id`; rm -rf /",
      '--port=4242',
      '10.0.0.5:4242',
      '',
      ''
    ]);
  });

  it('renders the replica batch script: sbatch options, port pick, replica.json, exec', () => {
    const script = renderReplicaScript({
      jobName: 'hpcb-ep-abc-def',
      workdir: '/home/alice/.hpc-bridge/endpoints/def',
      partition: 'gpu',
      resources: { cpus: 2, memoryMB: 1000, gpus: 1, timeMinutes: 30 },
      argv: withAddress(['/bin/x'], 'h', 1).concat([
        '--port',
        '{port}',
        '--host',
        '{host}'
      ]),
      python: '/usr/bin/python3',
      key: {
        env: 'LLAMA_API_KEY',
        file: '/home/alice/.hpc-bridge/endpoints/def/upstream.key'
      }
    });
    expect(script).toContain('#SBATCH --time=30\n');
    expect(script).toContain('#SBATCH --gres=gpu:1\n');
    expect(script).toContain('#SBATCH --partition=gpu\n');
    expect(script).toContain(
      '#SBATCH --chdir=/home/alice/.hpc-bridge/endpoints/def\n'
    );
    expect(script).toContain(
      '> replica.json.tmp\nmv replica.json.tmp replica.json\n'
    );
    expect(script).toMatch(
      /\nexec \/bin\/x --port "\$\{HPCB_PORT\}" --host "\$\{HPCB_HOST\}"\n$/
    );
    execFileSync('/bin/bash', ['-n'], { input: script });
  });

  it('runs: the script writes {host, port} JSON and execs the recipe', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hpcb-replica-'));
    const script = renderReplicaScript({
      jobName: 'hpcb-ep-abc-def',
      workdir: dir,
      partition: 'gpu',
      resources: { cpus: 1, memoryMB: 100, gpus: 0, timeMinutes: 1 },
      argv: [
        '/bin/sh',
        '-c',
        'printf "%s|" "$@" "$LLAMA_API_KEY"',
        'sh',
        '{host}',
        '{port}'
      ],
      python: '/usr/bin/python3',
      key: { env: 'LLAMA_API_KEY', file: join(dir, 'upstream.key') }
    });
    expect(script).not.toContain(KEY);
    writeFileSync(join(dir, 'upstream.key'), `${KEY}\n`, { mode: 0o600 });
    const out = execFileSync('/bin/bash', ['-c', script], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin' }
    });
    const info = JSON.parse(
      readFileSync(join(dir, 'replica.json'), 'utf8')
    ) as {
      host: string;
      port: number;
    };
    expect(info.port).toBeGreaterThan(0);
    expect(out).toBe(`${info.host}|${info.port}|${KEY}|`);
  });

  it('refuses unsafe sbatch values', () => {
    const base = {
      jobName: 'hpcb-ep-abc-def',
      workdir: '/w',
      partition: 'gpu',
      resources: { cpus: 1, memoryMB: 100, gpus: 0, timeMinutes: 1 },
      argv: ['/bin/x'],
      python: '/usr/bin/python3',
      key: { env: 'LLAMA_API_KEY', file: '/w/upstream.key' }
    };
    expect(() =>
      renderReplicaScript({ ...base, partition: 'gpu --wrap=x' })
    ).toThrow(/partition/);
    expect(() =>
      renderReplicaScript({ ...base, workdir: '/w/../etc' })
    ).toThrow(/working directory/);
    expect(() => renderReplicaScript({ ...base, jobName: 'a b' })).toThrow(
      /job name/
    );
    expect(() => renderReplicaScript({ ...base, argv: [] })).toThrow(
      /empty command/
    );
    expect(() =>
      renderReplicaScript({
        ...base,
        key: { env: 'X=$(id)', file: '/w/upstream.key' }
      })
    ).toThrow(/key variable/);
    expect(() =>
      renderReplicaScript({
        ...base,
        key: { env: 'LLAMA_API_KEY', file: 'upstream.key' }
      })
    ).toThrow(/key file/);
  });
});
