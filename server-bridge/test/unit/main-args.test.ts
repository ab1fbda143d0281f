import { parseArgs } from '../../src/main';

describe('CLI arguments', () => {
  it('parses serve --config FILE in both spellings', () => {
    expect(parseArgs(['serve', '--config', 'c.yaml'], {})).toEqual({
      command: 'serve',
      config: 'c.yaml'
    });
    expect(parseArgs(['serve', '--config=c.yaml'], {})).toEqual({
      command: 'serve',
      config: 'c.yaml'
    });
    expect(parseArgs(['serve'], { HPC_BRIDGE_CONFIG: 'env.yaml' })).toEqual({
      command: 'serve',
      config: 'env.yaml'
    });
  });

  it('answers --help and --version', () => {
    expect(parseArgs(['--help'], {})).toEqual({ command: 'help' });
    expect(parseArgs(['serve', '-h'], {})).toEqual({ command: 'help' });
    expect(parseArgs(['--version'], {})).toEqual({ command: 'version' });
  });

  it('explains what is wrong', () => {
    expect(parseArgs([], {})).toEqual({
      command: 'error',
      message: 'missing command'
    });
    expect(parseArgs(['run'], {})).toEqual({
      command: 'error',
      message: 'unknown command "run"'
    });
    expect(parseArgs(['serve'], {})).toEqual({
      command: 'error',
      message: '--config FILE is required'
    });
    expect(parseArgs(['serve', '--config'], {})).toEqual({
      command: 'error',
      message: '--config FILE is required'
    });
    expect(parseArgs(['serve', '--port', '1'], {})).toEqual({
      command: 'error',
      message: 'unknown argument "--port"'
    });
  });

  it('parses check-config FILE with --online and --json in any order', () => {
    expect(parseArgs(['check-config', 'c.yaml'], {})).toEqual({
      command: 'check-config',
      file: 'c.yaml',
      online: false,
      json: false
    });
    expect(
      parseArgs(['check-config', '--json', 'c.yaml', '--online'], {})
    ).toEqual({
      command: 'check-config',
      file: 'c.yaml',
      online: true,
      json: true
    });
  });

  it('explains what is wrong with check-config arguments', () => {
    expect(
      parseArgs(['check-config'], { HPC_BRIDGE_CONFIG: 'env.yaml' })
    ).toEqual({ command: 'error', message: 'check-config needs a FILE' });
    expect(parseArgs(['check-config', 'a.yaml', 'b.yaml'], {})).toEqual({
      command: 'error',
      message: 'check-config takes one FILE (also got "b.yaml")'
    });
    expect(parseArgs(['check-config', 'a.yaml', '--offline'], {})).toEqual({
      command: 'error',
      message: 'unknown argument "--offline"'
    });
  });
});

describe('the store commands', () => {
  it('reads migrate --config and falls back to HPC_BRIDGE_CONFIG', () => {
    expect(parseArgs(['migrate', '--config=c.yaml'], {})).toEqual({
      command: 'migrate',
      config: 'c.yaml'
    });
    expect(parseArgs(['migrate'], { HPC_BRIDGE_CONFIG: 'e.yaml' })).toEqual({
      command: 'migrate',
      config: 'e.yaml'
    });
    expect(parseArgs(['migrate'], {})).toEqual({
      command: 'error',
      message: '--config FILE is required'
    });
  });

  it('reads copy-store --from sqlite:PATH --to postgres://…', () => {
    expect(
      parseArgs(
        [
          'copy-store',
          '--from',
          'sqlite:/s/bridge.db',
          '--to',
          'postgres://u@h/db'
        ],
        {}
      )
    ).toEqual({
      command: 'copy-store',
      from: '/s/bridge.db',
      to: 'postgres://u@h/db'
    });
    expect(
      parseArgs(
        ['copy-store', '--from', '/s/bridge.db', '--to', 'postgres://h/db'],
        {}
      )
    ).toEqual({ command: 'error', message: '--from sqlite:PATH is required' });
    expect(
      parseArgs(['copy-store', '--from=sqlite:a', '--to=mysql://h/db'], {})
    ).toEqual({ command: 'error', message: '--to postgres://… is required' });
    expect(parseArgs(['copy-store', '--into', 'x'], {})).toEqual({
      command: 'error',
      message: 'unknown argument "--into"'
    });
  });
});
