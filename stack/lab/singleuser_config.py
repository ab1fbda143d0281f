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
c.ServerApp.default_url = "/lab"
