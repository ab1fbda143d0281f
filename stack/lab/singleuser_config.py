"""Config of each user's jupyterhub-singleuser (jupyter-server 1.23): the lab app.

Installed next to the launcher, e.g. /opt/hpc-bridge/lab/singleuser_config.py:

    /opt/hpc-bridge/lab/hpc_bridge_lab/                  stack/lab/hpc_bridge_lab
    /opt/hpc-bridge/lab/build/                           stack/lab/build
    /opt/hpc-bridge/lab/settings/                        stack/lab/settings
    /opt/hpc-bridge/lab/labextensions/jupyterlab-hpc-bridge/
                                                         jupyterlab_hpc_bridge/labextension
    /opt/hpc-bridge/lab/singleuser_config.py             this file

The hub starts `/usr/bin/jupyterhub-singleuser --config=<this file>` with
PYTHONPATH=<that directory> (and Spawner.default_url = "/lab"). The directory is
also put on sys.path here, so PYTHONPATH is a convenience, not a requirement.
"""

import os
import sys

c = get_config()  # noqa: F821 (defined by traitlets when it loads this file)

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

c.ServerApp.jpserver_extensions = {"hpc_bridge_lab": True}

# Cluster kernels: the HPC Bridge's kernel specs ("Python 3 on cluster — <profile>") next
# to the local ones; each runs cluster-kernel/launcher.mjs, which starts the kernel as a
# SLURM job of the user through the bridge ($HPC_BRIDGE_URL, the server's own token).
c.ServerApp.kernel_spec_manager_class = "hpc_bridge_lab.cluster_kernels.ClusterKernelSpecManager"
# A cluster kernel answers its first kernel_info_request only once its job has left the
# queue and ipykernel runs on the node: the default 60 s would declare a kernel that waits
# for a node dead (and restart it, submitting another job). One hour of queue wait.
c.MappingKernelManager.kernel_info_timeout = 3600
# Shutdown: shutdown_request first; after half of this the launcher gets SIGTERM (it
# cancels the job and exits within 1.5 s), at the end SIGKILL.
c.KernelManager.shutdown_wait_time = 5.0
# A kernel whose job ended (TIMEOUT, NODE_FAIL) makes its launcher exit; the restarter
# starts a new job at most this many times in a row.
c.KernelRestarter.restart_limit = 5
c.ServerApp.default_url = "/lab"
