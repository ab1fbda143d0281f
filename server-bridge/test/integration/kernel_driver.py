"""Drives a cluster kernel the way the lab does (jupyter_client.KernelManager and a kernel
spec whose argv runs stack/lab/cluster-kernel/launcher.mjs), for kernels.test.ts.

    /usr/bin/python3 kernel_driver.py LAUNCHER PROFILE

Environment: JUPYTERHUB_API_TOKEN (the user's token) and HPC_BRIDGE_URL (the bridge
through the hub's proxy), passed on to the launcher. Prints one JSON object per line:
{"step": ...} as it goes, {"error": "..."} and exit 1 when a step fails. After the step
"running" (after a restart) it waits for a line on stdin (the test checks what another user can reach),
then shuts the kernel down.
"""

import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

from jupyter_client import KernelManager


def say(**fields):
    print(json.dumps(fields), flush=True)


def fail(message):
    say(error=message)
    sys.exit(1)


def run(kc, code, timeout, stdin_answer=None):
    """Executes CODE; returns (reply content, text/plain of the result or stream text)."""
    outputs = []

    def on_output(msg):
        content = msg["content"]
        if msg["msg_type"] == "execute_result":
            outputs.append(content["data"].get("text/plain", ""))
        elif msg["msg_type"] == "stream":
            outputs.append(content["text"])
        elif msg["msg_type"] == "error":
            outputs.append(f"{content['ename']}: {content['evalue']}")

    def on_stdin(msg):
        if stdin_answer is None:
            fail(f"the kernel asked for input unexpectedly: {msg['content']}")
        kc.input(stdin_answer)

    try:
        reply = kc.execute_interactive(
            code,
            timeout=timeout,
            allow_stdin=stdin_answer is not None,
            output_hook=on_output,
            stdin_hook=on_stdin,
        )
    except TimeoutError:
        fail(f"no reply to {code!r} within {timeout} s")
    return reply["content"], "".join(outputs)


def main():
    launcher, profile = sys.argv[1], sys.argv[2]
    for name in ("JUPYTERHUB_API_TOKEN", "HPC_BRIDGE_URL"):
        if not os.environ.get(name):
            fail(f"${name} is not set")
    specs = tempfile.mkdtemp(prefix="hpcb-kernelspec-")
    spec_dir = os.path.join(specs, "kernels", "hpcb-test")
    os.makedirs(spec_dir)
    with open(os.path.join(spec_dir, "kernel.json"), "w") as f:
        json.dump(
            {
                "argv": [
                    shutil.which("node") or "/usr/bin/node",
                    launcher,
                    "--profile",
                    profile,
                    "-f",
                    "{connection_file}",
                ],
                "display_name": "Python 3 on cluster (test)",
                "language": "python",
                "interrupt_mode": "message",
            },
            f,
        )
    os.environ["JUPYTER_PATH"] = specs
    # Named as jupyter-server names it: the launcher takes the kernel id from the name.
    km = KernelManager(
        kernel_name="hpcb-test",
        connection_file=os.path.join(specs, f"kernel-{uuid.uuid4()}.json"),
    )
    km.shutdown_wait_time = 5.0
    t0 = time.monotonic()
    try:
        km.start_kernel()
    except Exception as e:  # noqa: BLE001 (the message is what the test needs)
        fail(f"the launcher did not start: {e}")
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
    except RuntimeError as e:
        alive = km.is_alive()
        fail(f"the kernel did not answer kernel_info within 120 s (launcher alive: {alive}): {e}")
    say(step="ready", seconds=round(time.monotonic() - t0, 2), kernel=km.connection_file)

    content, out = run(kc, 'import os; os.environ["SLURM_JOB_ID"]', 30)
    if content["status"] != "ok":
        fail(f"SLURM_JOB_ID not readable in the kernel: {out}")
    job = out.strip().strip("'\"")
    owner = subprocess.run(
        ["squeue", "-h", "-j", job, "-o", "%u %T"], capture_output=True, text=True
    ).stdout.strip()
    say(step="job", slurmJobId=job, squeue=owner)

    t = time.monotonic()
    content, out = run(kc, "1+1", 10)
    say(step="roundtrip", ms=round((time.monotonic() - t) * 1000, 1), result=out.strip())

    content, out = run(kc, 'answer = input("name? "); print("got", answer)', 30, "from-stdin")
    if content["status"] != "ok" or "got from-stdin" not in out:
        fail(f"input() was not answered through stdin: status {content['status']}, output {out!r}")
    say(step="stdin", output=out.strip())

    msg_id = kc.execute("import time; time.sleep(600)")
    time.sleep(1.0)
    t = time.monotonic()
    km.interrupt_kernel()
    deadline = time.monotonic() + 15
    while True:
        if time.monotonic() > deadline:
            fail("the interrupt did not stop time.sleep(600) within 15 s")
        try:
            msg = kc.get_shell_msg(timeout=1)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") == msg_id:
            break
    reply = msg["content"]
    if reply.get("ename") != "KeyboardInterrupt":
        fail(f"the interrupted cell ended with {reply.get('status')} {reply.get('ename')}, not KeyboardInterrupt")
    say(step="interrupt", seconds=round(time.monotonic() - t, 2))

    # Restart: the old job ends, a new one runs the new kernel (same connection file).
    t = time.monotonic()
    km.restart_kernel(now=False)
    try:
        kc.wait_for_ready(timeout=120)
    except RuntimeError as e:
        fail(f"the restarted kernel did not answer within 120 s: {e}")
    content, out = run(kc, 'import os; os.environ["SLURM_JOB_ID"]', 30)
    if content["status"] != "ok":
        fail(f"SLURM_JOB_ID not readable after the restart: {out}")
    previous, job = job, out.strip().strip("'\"")
    say(step="restart", seconds=round(time.monotonic() - t, 2), slurmJobId=job, previous=previous)

    say(step="running", slurmJobId=job)
    if sys.stdin.readline().strip() != "continue":
        fail("the test did not say continue")

    t = time.monotonic()
    kc.stop_channels()
    km.shutdown_kernel(now=False)
    say(step="shutdown", seconds=round(time.monotonic() - t, 2), slurmJobId=job)
    shutil.rmtree(specs, ignore_errors=True)


if __name__ == "__main__":
    main()
