"""Cluster kernels in the kernel picker: a KernelSpecManager that adds the HPC Bridge's.

Set in singleuser_config.py with ``c.ServerApp.kernel_spec_manager_class``. For each spec
of ``GET {HPC_BRIDGE_URL}api/v1/kernels/specs`` (asked with the server's own token,
cached ``cache_seconds`` and refreshed in the background) it adds a kernel spec whose argv runs the launcher
(``<lab root>/cluster-kernel/launcher.mjs``), which starts the kernel as a SLURM job of
the user through the bridge and relays its channels. When the bridge does not answer,
the local kernel specs are listed as they are.
"""

import json
import os
import shutil
import threading
import time
import urllib.request

from jupyter_client.kernelspec import KernelSpecManager
from traitlets import Float, Unicode, default


def _lab_root():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.abspath(os.environ.get("HPC_BRIDGE_LAB_ROOT") or os.path.dirname(here))


class ClusterKernelSpecManager(KernelSpecManager):
    """The local kernel specs plus one ``hpcb-<profile>`` spec per bridge kernel profile."""

    bridge_url = Unicode(config=True, help="The HPC Bridge's base URL (through the hub's proxy).")
    launcher = Unicode(config=True, help="Path of launcher.mjs.")
    node = Unicode(config=True, help="The node binary that runs the launcher.")
    cache_seconds = Float(30.0, config=True, help="How long the bridge's answer is reused.")
    request_timeout = Float(3.0, config=True, help="Seconds to wait for the bridge.")

    @default("bridge_url")
    def _bridge_url_default(self):
        return os.environ.get("HPC_BRIDGE_URL", "")

    @default("launcher")
    def _launcher_default(self):
        return os.path.join(_lab_root(), "cluster-kernel", "launcher.mjs")

    @default("node")
    def _node_default(self):
        return shutil.which("node") or "/usr/bin/node"

    _cached = None
    _cached_at = 0.0
    _refreshing = None

    def _bridge_specs(self):
        """The bridge's specs; ``[]`` when it does not answer.

        Only the first call waits for the bridge (at most ``request_timeout``). Later, a
        stale answer is returned at once and refreshed in the background, so a slow or
        stopped bridge never holds up the lab's kernel spec requests.
        """
        now = time.monotonic()
        if self._cached is None:
            self._cached = self._fetch_specs() or []
            self._cached_at = time.monotonic()
        elif now - self._cached_at >= self.cache_seconds and self._refreshing is None:
            self._refreshing = threading.Thread(target=self._refresh, daemon=True)
            self._refreshing.start()
        return self._cached

    def _refresh(self):
        try:
            specs = self._fetch_specs()
            # A bridge that does not answer keeps the specs it last gave.
            if specs is not None:
                self._cached = specs
            self._cached_at = time.monotonic()
        finally:
            self._refreshing = None

    def _fetch_specs(self):
        """``GET …/kernels/specs`` with the server's token; None when it fails."""
        token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
        if not (self.bridge_url and token):
            return []
        url = self.bridge_url.rstrip("/") + "/api/v1/kernels/specs"
        request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
        try:
            with urllib.request.urlopen(request, timeout=self.request_timeout) as res:
                return [
                    s
                    for s in json.load(res).get("specs", [])
                    if isinstance(s, dict) and s.get("name") and s.get("profile")
                ]
        except (OSError, ValueError) as e:
            self.log.warning("HPC Bridge kernel specs not available from %s: %s", url, e)
            return None

    def _cluster_spec(self, spec):
        return self.kernel_spec_class(
            resource_dir=os.path.dirname(self.launcher),
            argv=[
                self.node,
                self.launcher,
                "--profile",
                spec["profile"],
                "-f",
                "{connection_file}",
            ],
            display_name=spec.get("displayName") or spec["name"],
            language="python",
            interrupt_mode="message",
            metadata={"hpcb": {"profile": spec["profile"]}},
        )

    def find_kernel_specs(self):
        found = super().find_kernel_specs()
        for spec in self._bridge_specs():
            found.setdefault(spec["name"], os.path.dirname(self.launcher))
        return found

    def get_kernel_spec(self, kernel_name):
        for spec in self._bridge_specs():
            if spec["name"] == kernel_name:
                return self._cluster_spec(spec)
        return super().get_kernel_spec(kernel_name)
