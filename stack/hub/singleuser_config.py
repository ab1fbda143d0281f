"""Config of every user's jupyterhub-singleuser (jupyter-server 1.23) in the demo stack.

stack/up copies this file to /opt/hpc-bridge/lab/singleuser_config.py; the hub passes
`--config=` with that path. The lab launcher `hpc_bridge_lab` (stack/lab/hpc_bridge_lab,
on PYTHONPATH) serves the npm-built JupyterLab 4 app at /lab as a server extension.
"""
import os
from pathlib import Path

c = get_config()  # noqa: F821 (provided by jupyter-server when it loads this file)

LAB_RUNTIME = Path(os.environ.get("HPC_LAB_RUNTIME") or "/opt/hpc-bridge/lab")

c.ServerApp.jpserver_extensions = {"hpc_bridge_lab": True}
