"""One kernel, timed: start to first result, then N round trips of a trivial cell.

    python3 kernel_timing.py local N
    python3 kernel_timing.py cluster N LAUNCHER PROFILE   (env JUPYTERHUB_API_TOKEN, HPC_BRIDGE_URL)
    python3 kernel_timing.py byhand N PARTITION USER      (as root: the user's own sbatch)

local: ipykernel on this host, as the lab starts a local kernel. cluster: the kernel spec
of a cluster kernel (the launcher: the bridge submits the job and relays its channels).
byhand: what a user could do without the bridge on this one-node cluster: sbatch
ipykernel with a TCP connection file in their home, then connect to the node directly
(no relay, no SSH; the node is this host). Prints one JSON object:
{"firstResultMs": ..., "roundTripsMs": [...]}.
"""

import json
import os
import pwd
import queue
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

from jupyter_client import BlockingKernelClient, KernelManager
from jupyter_client.connect import write_connection_file

CELL = "1+1"


def execute(kc, timeout):
    reply = kc.execute_interactive(CELL, timeout=timeout, allow_stdin=False, output_hook=lambda m: None)
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"{CELL!r} failed: {reply['content']}")


def wait_for_ready(kc, timeout):
    """jupyter_client's wait_for_ready without a manager: kernel_info until the shell
    answers, then until IOPub delivers (a SUB socket misses what is published before its
    subscription arrives, such as the idle status of a first cell sent too early)."""
    deadline = time.monotonic() + timeout
    for channel in (kc.get_shell_msg, kc.get_iopub_msg):
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError("the kernel did not answer kernel_info")
            kc.kernel_info()
            try:
                channel(timeout=0.2)
                break
            except queue.Empty:
                continue
    while True:
        try:
            kc.get_iopub_msg(timeout=0.05)
            kc.get_shell_msg(timeout=0.05)
        except queue.Empty:
            break


def first_result(kc, t0, timeout=120):
    if kc.parent is not None:
        kc.wait_for_ready(timeout=timeout)
    else:
        wait_for_ready(kc, timeout)
    execute(kc, timeout)
    return (time.monotonic() - t0) * 1000


def round_trips(kc, n):
    out = []
    for _ in range(n):
        t = time.monotonic()
        execute(kc, 30)
        out.append((time.monotonic() - t) * 1000)
    return out


def cluster_spec(launcher, profile):
    specs = tempfile.mkdtemp(prefix="hpcb-bench-kernelspec-")
    spec_dir = os.path.join(specs, "kernels", "hpcb-bench")
    os.makedirs(spec_dir)
    with open(os.path.join(spec_dir, "kernel.json"), "w") as f:
        json.dump(
            {
                "argv": [shutil.which("node") or "/usr/bin/node", launcher, "--profile", profile, "-f", "{connection_file}"],
                "display_name": "bench",
                "language": "python",
                "interrupt_mode": "message",
            },
            f,
        )
    os.environ["JUPYTER_PATH"] = specs
    return specs


def with_manager(km, n):
    t0 = time.monotonic()
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        first = first_result(kc, t0)
        return first, round_trips(kc, n)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)


def local(n):
    km = KernelManager(kernel_name="python3")
    return with_manager(km, n)


def cluster(n, launcher, profile):
    specs = cluster_spec(launcher, profile)
    km = KernelManager(kernel_name="hpcb-bench", connection_file=os.path.join(specs, f"kernel-{uuid.uuid4()}.json"))
    km.shutdown_wait_time = 5.0
    return with_manager(km, n)


def byhand(n, partition, user):
    pw = pwd.getpwnam(user)
    folder = os.path.join(pw.pw_dir, ".hpcb-bench")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    os.chown(folder, pw.pw_uid, pw.pw_gid)
    path = os.path.join(folder, f"kernel-{uuid.uuid4()}.json")
    write_connection_file(path, ip="127.0.0.1", key=uuid.uuid4().hex.encode())
    os.chown(path, pw.pw_uid, pw.pw_gid)
    t0 = time.monotonic()
    job = subprocess.run(
        ["su", "-s", "/bin/sh", user, "-c",
         f"sbatch --parsable -p {partition} -t 10 -o /dev/null -e /dev/null "
         f"--wrap 'exec /usr/bin/python3 -m ipykernel_launcher -f {path}'"],
        check=True, capture_output=True, text=True,
    ).stdout.strip().split(";")[0]
    kc = BlockingKernelClient(connection_file=path)
    kc.load_connection_file()
    kc.start_channels()
    try:
        first = first_result(kc, t0)
        return first, round_trips(kc, n)
    finally:
        kc.stop_channels()
        subprocess.run(["scancel", job], check=False)
        os.remove(path)


def main():
    mode, n = sys.argv[1], int(sys.argv[2])
    if mode == "local":
        first, rtts = local(n)
    elif mode == "cluster":
        first, rtts = cluster(n, sys.argv[3], sys.argv[4])
    elif mode == "byhand":
        first, rtts = byhand(n, sys.argv[3], sys.argv[4])
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps({"firstResultMs": round(first, 1), "roundTripsMs": [round(x, 3) for x in rtts]}))


if __name__ == "__main__":
    main()
