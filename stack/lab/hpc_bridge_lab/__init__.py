"""The JupyterLab 4 app of the HPC Bridge stack, served by jupyter_server.

The frontend is built from npm (``npm run build -w stack/lab``) into
``<root>/build``; this package is the ~LabApp that serves it, either
standalone (``python3 -m hpc_bridge_lab``) or as the ``hpc_bridge_lab`` server
extension inside ``jupyterhub-singleuser``.

``<root>`` is the directory above this package (``stack/lab`` in the repo,
``/opt/hpc-bridge/lab`` when installed by ``stack/up``) or ``$HPC_BRIDGE_LAB_ROOT``:

    <root>/hpc_bridge_lab/              this package
    <root>/build/static/                the webpack build (+ index.html)
    <root>/build/schemas/               settings schemas of the core extensions
    <root>/build/themes/                light and dark theme CSS
    <root>/labextensions/<npm name>/    prebuilt extensions shipped with the app
"""

import json
import os

from jupyter_core.paths import jupyter_config_dir, jupyter_path
from jupyterlab_server import LabServerApp
from traitlets import Unicode, default

__version__ = "0.1.0"

HERE = os.path.dirname(os.path.abspath(__file__))


def lab_root():
    """The directory holding ``build/`` and ``labextensions/``."""
    return os.path.abspath(os.environ.get("HPC_BRIDGE_LAB_ROOT") or os.path.dirname(HERE))


def _build_dir():
    return os.path.join(lab_root(), "build")


def _jupyterlab_version():
    """The version of the bundled @jupyterlab/application-extension."""
    orig = os.path.join(
        _build_dir(), "schemas", "@jupyterlab", "application-extension", "package.json.orig"
    )
    try:
        with open(orig, encoding="utf-8") as f:
            return json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        return ""


class HpcBridgeLabApp(LabServerApp):
    """Serves the npm-built JupyterLab app (the layout of a JupyterLab app dir)."""

    name = "hpc_bridge_lab"
    app_name = "JupyterLab"
    description = "JupyterLab 4 built from npm, with the HPC Bridge extension"
    extension_url = "/lab"
    default_url = Unicode("/lab", help="The default URL to redirect to from `/`")
    load_other_extensions = True

    @default("app_version")
    def _default_app_version(self):
        return _jupyterlab_version()

    @default("static_dir")
    def _default_static_dir(self):
        return os.path.join(_build_dir(), "static")

    @default("templates_dir")
    def _default_templates_dir(self):
        return os.path.join(_build_dir(), "static")

    @default("schemas_dir")
    def _default_schemas_dir(self):
        return os.path.join(_build_dir(), "schemas")

    @default("themes_dir")
    def _default_themes_dir(self):
        return os.path.join(_build_dir(), "themes")

    @default("app_settings_dir")
    def _default_app_settings_dir(self):
        # overrides.json / page_config.json for site-wide defaults
        return os.path.join(lab_root(), "settings")

    @default("user_settings_dir")
    def _default_user_settings_dir(self):
        return os.environ.get("JUPYTERLAB_SETTINGS_DIR") or os.path.join(
            jupyter_config_dir(), "lab", "user-settings"
        )

    @default("workspaces_dir")
    def _default_workspaces_dir(self):
        return os.environ.get("JUPYTERLAB_WORKSPACES_DIR") or os.path.join(
            jupyter_config_dir(), "lab", "workspaces"
        )

    @default("labextensions_path")
    def _default_labextensions_path(self):
        # The app's own prebuilt extensions first, then the standard Jupyter
        # paths (where `pip install`ed extensions land). `extra_labextensions_path`
        # stays free for the user.
        return [os.path.join(lab_root(), "labextensions")] + jupyter_path("labextensions")

    def initialize_settings(self):
        index = os.path.join(self.templates_dir, "index.html")
        if not os.path.isfile(index):
            raise RuntimeError(
                f"{index} is missing: build the app with `npm run build -w stack/lab`"
                " or point HPC_BRIDGE_LAB_ROOT at a directory that holds build/"
            )
        super().initialize_settings()


def _jupyter_server_extension_points():
    return [{"module": "hpc_bridge_lab", "app": HpcBridgeLabApp}]


main = launch_new_instance = HpcBridgeLabApp.launch_instance
