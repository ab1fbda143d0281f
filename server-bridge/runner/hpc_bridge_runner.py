#!/usr/bin/python3
"""HPC Bridge notebook runner: executes a notebook cell by cell on a compute node.

Usage: hpc_bridge_runner.py INPUT.ipynb OUTPUT.ipynb PROGRESS.json

After every code cell it saves OUTPUT (partial outputs included) and PROGRESS,
`{"cell": k, "of": n}` where n is the number of code cells and k how many of
them have finished without error; both writes are atomic (tmp + rename). When a
cell fails, PROGRESS also gets `"error": {"ename", "evalue", "cell"}` (cell: the
index of the failing cell in OUTPUT; null when the kernel could not start), as
papermill's PapermillExecutionError carries them.
The kernel is the notebook's `kernelspec.name` (`python3` when it names none)
and runs in the current directory, with no per-cell timeout (SLURM's time limit
applies). Stream outputs are echoed to stdout and stderr as they arrive, so the
job log shows them.

Exit codes: 0 all cells ran, or a cell ended the notebook with `sys.exit()`,
`sys.exit(0)` or `sys.exit(None)` (success, as in papermill; later cells do not
run); 1 a cell failed (its traceback is in OUTPUT and on stderr) or the kernel
died or could not start; 2 usage error.

Needs only Debian's python3-nbclient and python3-nbformat.
"""
import json
import os
import re
import shutil
import sys
import tempfile

import nbformat
from nbclient import NotebookClient
from jupyter_client.kernelspec import NoSuchKernel
from nbclient.exceptions import CellExecutionError, DeadKernelError
from traitlets.config import Config

ANSI = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')
# How IPython reports sys.exit(), sys.exit(0) and sys.exit(None).
SUCCESSFUL_EXITS = ('', '0', 'None')


def error_record(ename, evalue, cell):
    return {
        'ename': ANSI.sub('', str(ename))[:200],
        'evalue': ANSI.sub('', str(evalue))[:2000],
        'cell': cell,
    }


def write_atomic(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.tmp-', suffix='.part')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


class EchoingClient(NotebookClient):
    """Also writes stream outputs to this process's stdout/stderr as they arrive."""

    def output(self, outs, msg, display_id, cell_index):
        if msg['msg_type'] == 'stream':
            content = msg['content']
            target = sys.stderr if content.get('name') == 'stderr' else sys.stdout
            target.write(content.get('text', ''))
            target.flush()
        return super().output(outs, msg, display_id, cell_index)


def job_marker():
    marker = {
        'job': os.environ.get('SLURM_JOB_ID'),
        'array_index': int(os.environ.get('SLURM_ARRAY_TASK_ID') or 0),
    }
    if os.environ.get('SLURM_ARRAY_JOB_ID'):
        marker['array_job'] = os.environ['SLURM_ARRAY_JOB_ID']
    return marker


def run(input_path, output_path, progress_path):
    nb = nbformat.read(input_path, as_version=4)
    nb.metadata['hpc_bridge'] = job_marker()
    kernel = (nb.metadata.get('kernelspec') or {}).get('name') or 'python3'
    code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == 'code']
    done = 0

    def save(error=None):
        progress = {'cell': done, 'of': len(code)}
        if error is not None:
            progress['error'] = error
        write_atomic(output_path, nbformat.writes(nb))
        write_atomic(progress_path, json.dumps(progress))

    def fail(error, message):
        save(error)
        sys.stdout.flush()
        print(f'[hpc-bridge] cell {done + 1}/{len(code)} failed', file=sys.stderr)
        print(ANSI.sub('', message), file=sys.stderr)
        return 1

    save()
    # A private runtime dir for the kernel's connection file: works even where
    # $XDG_RUNTIME_DIR (inherited from the login session) is missing on the node.
    runtime = tempfile.mkdtemp(prefix='hpc-bridge-kernel-')
    os.environ['JUPYTER_RUNTIME_DIR'] = runtime
    # ipykernel's debugger otherwise warns about frozen modules in every job log.
    os.environ.setdefault('PYDEVD_DISABLE_FILE_VALIDATION', '1')
    # Unix sockets in the private runtime dir instead of TCP ports: array elements that
    # start kernels at the same moment on one node raced for the same free ports.
    config = Config()
    config.KernelManager.transport = 'ipc'
    config.KernelManager.ip = os.path.join(runtime, 'kernel')
    client = EchoingClient(
        nb,
        config=config,
        kernel_name=kernel,
        timeout=None,
        resources={'metadata': {'path': os.getcwd()}},
    )
    try:
        with client.setup_kernel():
            for index in code:
                try:
                    client.execute_cell(nb.cells[index], index, execution_count=done + 1)
                except CellExecutionError as error:
                    if error.ename == 'SystemExit' and error.evalue.strip() in SUCCESSFUL_EXITS:
                        done += 1
                        save()
                        print(f'[hpc-bridge] cell {done}/{len(code)} ended the notebook with sys.exit({error.evalue.strip()})', flush=True)
                        return 0
                    return fail(error_record(error.ename, error.evalue, index), str(error))
                except DeadKernelError as error:
                    return fail(error_record('DeadKernelError', error, index), str(error))
                done += 1
                save()
                print(f'[hpc-bridge] cell {done}/{len(code)} done', flush=True)
    except NoSuchKernel:
        return fail(
            error_record('NoSuchKernel', f'no kernel named {kernel} on this node', None),
            f'no kernel named {kernel} on this node',
        )
    finally:
        shutil.rmtree(runtime, ignore_errors=True)
    return 0


def main(argv):
    if len(argv) != 4:
        print(__doc__.split('\n\n')[1], file=sys.stderr)
        return 2
    return run(argv[1], argv[2], argv[3])


if __name__ == '__main__':
    sys.exit(main(sys.argv))
