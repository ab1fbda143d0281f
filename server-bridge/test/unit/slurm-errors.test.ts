import { SlurmCommandError } from '../../src/adapters/ssh/slurm';

const failed = (stderr: string): SlurmCommandError =>
  new SlurmCommandError(['sbatch', '--parsable', 'job.sbatch'], {
    code: 1,
    signal: null,
    stdout: '',
    stderr
  } as never);

describe('a failed SLURM command', () => {
  test.each([
    'sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)',
    'sbatch: error: Batch job submission failed: Socket timed out on send/recv operation',
    'sbatch: error: Slurm temporarily unable to accept job, sleeping and retrying'
  ])('is the controller being down: %s', stderr => {
    expect(failed(stderr).controllerDown).toBe(true);
  });

  test.each([
    'sbatch: error: invalid partition specified: nope',
    'sbatch: error: Batch job submission failed: Requested node configuration is not available',
    ''
  ])('is the request being refused: %j', stderr => {
    expect(failed(stderr).controllerDown).toBe(false);
  });
});
