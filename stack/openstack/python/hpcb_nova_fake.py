"""The demo stack's hypervisor: Nova's FakeDriver, with GPUs to schedule and a real guest.

Loaded by nova-compute as compute_driver = hpcb_fake.HpcbFakeDriver (sitecustomize.py maps
nova.virt.hpcb_fake to this module). What it adds to FakeDriver:

- a child resource provider with VGPU inventory (HPCB_FAKE_VGPUS, default 2) and the trait
  CUSTOM_GPU_NVIDIA_A100, so flavors with resources:VGPU=N schedule, and fail with "No valid
  host was found" when the GPUs are taken;
- each instance is a network namespace hpcb-<first 8 of uuid> whose eth0 owns the fixed IP
  from Neutron, wired by a veth into the host bridge HPCB_CLOUD_BRIDGE (the stack gives it the
  subnet's gateway address); a user-data script (#!...) runs inside it as HPCB_GUEST_USER, so
  a server that the guest starts answers at the address Nova reports.

Per instance, HPCB_INSTANCES_DIR/<uuid>/ holds instance.json (how to rebuild the guest after a
restart of nova-compute or of the host), user-data, console.log (the guest's stdout and stderr)
and home/, the guest's working and home directory.
"""

import base64
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import time

from nova import exception
from nova import utils
from nova.compute import power_state
from nova.virt import fake
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

INSTANCES_DIR = os.environ.get("HPCB_INSTANCES_DIR", "/var/lib/hpcb-fake/instances")
CLOUD_BRIDGE = os.environ.get("HPCB_CLOUD_BRIDGE", "hpcb-cloud")
GUEST_USER = os.environ.get("HPCB_GUEST_USER", "hpcb-guest")
VGPUS = int(os.environ.get("HPCB_FAKE_VGPUS", "2"))
GPU_TRAIT = "CUSTOM_GPU_NVIDIA_A100"
GUEST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CONSOLE_TAIL_BYTES = 64 * 1024
STOP_GRACE_SECONDS = 5
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def namespace_name(uuid):
    return "hpcb-" + uuid[:8]


def host_interface_name(uuid):
    # Interface names have at most 15 characters.
    return "hpcbv" + uuid[:8]


def instance_dir(uuid):
    if not UUID_RE.match(uuid):
        raise ValueError("not an instance uuid: %r" % uuid)
    return os.path.join(INSTANCES_DIR, uuid)


def _ip(*args, check=True):
    result = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise exception.NovaException(
            "ip %s failed: %s" % (" ".join(args), result.stderr.strip())
        )
    return result


def _first_ipv4(network_info):
    """(address, prefix length, gateway, mac) of the first IPv4 fixed IP, or None."""
    for vif in network_info or []:
        for subnet in vif["network"]["subnets"]:
            if subnet["version"] != 4:
                continue
            for fixed in subnet["ips"]:
                prefix = int(subnet["cidr"].split("/")[1])
                gateway = (subnet.get("gateway") or {}).get("address")
                return fixed["address"], prefix, gateway, vif["address"]
    return None


def _guest_pids(namespace):
    result = _ip("netns", "pids", namespace, check=False)
    return [int(pid) for pid in result.stdout.split() if pid.isdigit()]


def _process_running(pid):
    try:
        with open("/proc/%d/stat" % pid) as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _namespace_exists(namespace):
    return os.path.exists(os.path.join("/run/netns", namespace))


def stop_guest(namespace):
    """Ends every process in the namespace (TERM, then KILL after a grace period)."""
    if not _namespace_exists(namespace):
        return
    pids = _guest_pids(namespace)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while time.monotonic() < deadline and any(_process_running(p) for p in pids):
        time.sleep(0.1)
    for pid in _guest_pids(namespace):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def unplug(namespace, host_if):
    stop_guest(namespace)
    if _namespace_exists(namespace):
        _ip("netns", "delete", namespace)
    # Normally gone with the namespace (its peer); a half-built spawn may leave it.
    _ip("link", "delete", host_if, check=False)


def plug(record):
    namespace, host_if = record["namespace"], record["host_if"]
    unplug(namespace, host_if)
    _ip("netns", "add", namespace)
    _ip("-n", namespace, "link", "set", "lo", "up")
    if not record.get("address"):
        return
    _ip("link", "add", host_if, "type", "veth", "peer", "name", "eth0", "netns", namespace)
    _ip("link", "set", host_if, "master", CLOUD_BRIDGE, "up")
    _ip("-n", namespace, "link", "set", "eth0", "address", record["mac"])
    _ip("-n", namespace, "addr", "add", "%s/%d" % (record["address"], record["prefix"]), "dev", "eth0")
    _ip("-n", namespace, "link", "set", "eth0", "up")
    if record.get("gateway"):
        _ip("-n", namespace, "route", "add", "default", "via", record["gateway"])


def start_guest(record):
    """Runs the user-data script in the namespace as the guest user; does not wait for it."""
    directory = instance_dir(record["uuid"])
    script = os.path.join(directory, "user-data")
    if not os.path.exists(script):
        return
    guest = pwd.getpwnam(GUEST_USER)
    argv = [
        "ip", "netns", "exec", record["namespace"],
        "setpriv", "--reuid=%d" % guest.pw_uid, "--regid=%d" % guest.pw_gid, "--init-groups",
        "--", script,
    ]
    home = os.path.join(directory, "home")
    env = {"PATH": GUEST_PATH, "HOME": home, "LANG": "C.UTF-8", "USER": GUEST_USER}
    with open(os.path.join(directory, "console.log"), "ab") as console:
        process = subprocess.Popen(
            argv, cwd=home, env=env, stdin=subprocess.DEVNULL, stdout=console,
            stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
        )
    # Reaps the guest when it exits (nova-compute is its parent until nova-compute restarts).
    utils.spawn_n(process.wait)
    LOG.info("guest of %s started (pid %d) in %s", record["uuid"], process.pid, record["namespace"])


def write_instance_dir(record, user_data):
    directory = instance_dir(record["uuid"])
    guest = pwd.getpwnam(GUEST_USER)
    # The guest may read its script but not change what the driver reads (instance.json);
    # it writes in home/.
    os.makedirs(directory, mode=0o750, exist_ok=True)
    os.chown(directory, 0, guest.pw_gid)
    home = os.path.join(directory, "home")
    os.makedirs(home, mode=0o700, exist_ok=True)
    os.chown(home, guest.pw_uid, guest.pw_gid)
    script = os.path.join(directory, "user-data")
    decoded = base64.b64decode(user_data) if user_data else b""
    if decoded.startswith(b"#!"):
        with open(script, "wb") as out:
            out.write(decoded)
        os.chown(script, 0, guest.pw_gid)
        os.chmod(script, 0o750)
    elif os.path.exists(script):
        os.unlink(script)
    with open(os.path.join(directory, "instance.json.tmp"), "w") as out:
        json.dump(record, out)
    os.replace(os.path.join(directory, "instance.json.tmp"), os.path.join(directory, "instance.json"))


def read_record(uuid):
    try:
        with open(os.path.join(instance_dir(uuid), "instance.json")) as source:
            return json.load(source)
    except (OSError, ValueError):
        return None


class HpcbFakeDriver(fake.FakeDriver):
    def init_host(self, host):
        super().init_host(host)
        os.makedirs(INSTANCES_DIR, mode=0o755, exist_ok=True)
        # Guests that were running before nova-compute (or the stack) restarted: adopt the
        # live ones, boot the others again, as a hypervisor does after a host reboot.
        for uuid in sorted(os.listdir(INSTANCES_DIR)):
            record = UUID_RE.match(uuid) and read_record(uuid)
            if not record:
                continue
            record.update(namespace=namespace_name(uuid), host_if=host_interface_name(uuid))
            running = record.get("running", True)
            state = power_state.RUNNING if running else power_state.SHUTDOWN
            self.instances[uuid] = fake.FakeInstance(record["name"], state, uuid)
            if running and not _guest_pids(record["namespace"]):
                LOG.info("restarting the guest of %s", uuid)
                plug(record)
                start_guest(record)

    def spawn(self, context, instance, image_meta, injected_files, admin_password,
              allocations, network_info=None, block_device_info=None, power_on=True,
              accel_info=None):
        super().spawn(context, instance, image_meta, injected_files, admin_password,
                      allocations, network_info=network_info,
                      block_device_info=block_device_info, power_on=power_on,
                      accel_info=accel_info)
        address = _first_ipv4(network_info)
        record = {
            "uuid": instance.uuid,
            "name": instance.name,
            "namespace": namespace_name(instance.uuid),
            "host_if": host_interface_name(instance.uuid),
            "running": power_on,
        }
        if address:
            record.update(zip(("address", "prefix", "gateway", "mac"), address))
        try:
            write_instance_dir(record, instance.user_data)
            plug(record)
            if power_on:
                start_guest(record)
        except Exception:
            self._remove_guest(instance.uuid)
            super().destroy(context, instance, network_info)
            raise

    def _remove_guest(self, uuid):
        unplug(namespace_name(uuid), host_interface_name(uuid))
        shutil.rmtree(instance_dir(uuid), ignore_errors=True)

    def destroy(self, context, instance, network_info, block_device_info=None,
                destroy_disks=True, destroy_secrets=True):
        self._remove_guest(instance.uuid)
        super().destroy(context, instance, network_info, block_device_info=block_device_info,
                        destroy_disks=destroy_disks, destroy_secrets=destroy_secrets)

    def _set_running(self, uuid, running):
        record = read_record(uuid)
        if record is None:
            return None
        record["running"] = running
        path = os.path.join(instance_dir(uuid), "instance.json")
        with open(path + ".tmp", "w") as out:
            json.dump(record, out)
        os.replace(path + ".tmp", path)
        return record

    def power_off(self, instance, timeout=0, retry_interval=0):
        super().power_off(instance, timeout, retry_interval)
        if self._set_running(instance.uuid, False):
            stop_guest(namespace_name(instance.uuid))

    def power_on(self, context, instance, network_info, block_device_info=None,
                 accel_info=None):
        super().power_on(context, instance, network_info, block_device_info, accel_info)
        record = self._set_running(instance.uuid, True)
        if record and not _guest_pids(record["namespace"]):
            start_guest(record)

    def reboot(self, context, instance, network_info, reboot_type, block_device_info=None,
               bad_volumes_callback=None, accel_info=None):
        # FakeDriver's reboot powers the instance on, which starts the guest again.
        stop_guest(namespace_name(instance.uuid))
        super().reboot(context, instance, network_info, reboot_type, block_device_info,
                       bad_volumes_callback, accel_info)

    def get_console_output(self, context, instance):
        path = os.path.join(instance_dir(instance.uuid), "console.log")
        try:
            with open(path, "rb") as console:
                console.seek(max(0, os.path.getsize(path) - CONSOLE_TAIL_BYTES))
                return console.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def update_provider_tree(self, provider_tree, nodename, allocations=None):
        super().update_provider_tree(provider_tree, nodename, allocations=allocations)
        gpus = nodename + "_gpus"
        if not provider_tree.exists(gpus):
            provider_tree.new_child(gpus, nodename)
        provider_tree.update_inventory(gpus, {
            "VGPU": {
                "total": VGPUS,
                "reserved": 0,
                "min_unit": 1,
                "max_unit": VGPUS,
                "step_size": 1,
                "allocation_ratio": 1.0,
            },
        })
        provider_tree.update_traits(gpus, [GPU_TRAIT])
