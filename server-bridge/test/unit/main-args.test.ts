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
});
