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

import copy
import json
import os

import jupyter_server
from jupyter_core.paths import jupyter_config_dir, jupyter_path
from jupyterlab_server import LabServerApp
from jupyterlab_server.handlers import LabHandler, NotFoundHandler
from traitlets import Unicode, default

from . import server_apis

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


class LabPageHandler(LabHandler):
    """LabHandler that leaves the server-wide page config alone.

    jupyterlab_server 2.16 builds each page's config inside the dict
    ``settings["page_config_data"]`` that all requests share, so one request's
    values stay for the next ones: after a single 404 under /lab, every lab
    page opens with a "Path Not Found" dialog. Each page gets its own copy.
    """

    def get_page_config(self):
        shared = self.settings.setdefault("page_config_data", {})
        before = copy.deepcopy(shared)
        try:
            return copy.deepcopy(LabHandler.get_page_config.__wrapped__(self))
        finally:
            shared.clear()
            shared.update(before)


class NotFoundPageHandler(LabPageHandler):
    """The lab page for an unknown /lab/... path (shows "Path Not Found")."""

    def get_page_config(self):
        page_config = super().get_page_config()
        page_config["notFoundUrl"] = self.request.path
        return page_config


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
        # paths (where extensions installed by Python packages land). `extra_labextensions_path`
        # stays free for the user.
        return [os.path.join(lab_root(), "labextensions")] + jupyter_path("labextensions")

    def initialize_handlers(self):
        self._init_page_config()
        super().initialize_handlers()
        replacements = {LabHandler: LabPageHandler, NotFoundHandler: NotFoundPageHandler}
        self.handlers[:] = [
            (spec[0], replacements.get(spec[1], spec[1]), *spec[2:]) for spec in self.handlers
        ]
        if jupyter_server.version_info < (2,):
            self.handlers.extend(server_apis.HANDLERS)

    def _init_page_config(self):
        """Server-wide page config, as jupyterlab's LabApp sets it."""
        serverapp = self.serverapp
        page_config = serverapp.web_app.settings.setdefault("page_config_data", {})
        page_config.setdefault("buildAvailable", False)
        page_config.setdefault("buildCheck", False)
        page_config["devMode"] = False
        page_config["token"] = serverapp.token
        page_config["quitButton"] = serverapp.quit_button
        tornado_settings = serverapp.web_app.settings
        # Under jupyterhub-singleuser (JupyterHub 3.0 leaves this to the lab app):
        # the hub extension and the HPC Bridge panels find the hub from these.
        if "hub_prefix" in tornado_settings:
            hub_prefix = tornado_settings["hub_prefix"]
            page_config["hubPrefix"] = hub_prefix
            page_config["hubHost"] = tornado_settings.get("hub_host", "")
            page_config["hubUser"] = tornado_settings.get("user", "")
            page_config["shareUrl"] = hub_prefix.rstrip("/") + "/user-redirect"
            page_config["hubServerName"] = getattr(serverapp, "server_name", "")
            # The server's own $JUPYTERHUB_API_TOKEN must not reach the page;
            # the hub's page_config_hook puts the visiting user's token there.
            page_config["token"] = ""

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
