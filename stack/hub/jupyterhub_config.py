"""JupyterHub 3.0 (Debian) configuration of the HPC Bridge demo stack.

Started by stack/up as `jupyterhub -f stack/hub/jupyterhub_config.py` with the working
directory STACK_DIR/hub. Reads its paths from the environment:
STACK_DIR (default: <repo>/.stack), HPC_LAB_RUNTIME (default: /opt/hpc-bridge/lab),
CONFIGPROXY_AUTH_TOKEN (the proxy's API token).
"""
import os
import shutil
from pathlib import Path

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

REPO_ROOT = Path(__file__).resolve().parents[2]
STACK_DIR = Path(os.environ.get("STACK_DIR") or REPO_ROOT / ".stack").resolve()
LAB_RUNTIME = Path(os.environ.get("HPC_LAB_RUNTIME") or "/opt/hpc-bridge/lab")
NODE = shutil.which("node") or "/usr/bin/node"


def secret(relative_path):
    return (STACK_DIR / relative_path).read_text().strip()


# --- Hub and proxy: everything on loopback ----------------------------------------------
c.JupyterHub.bind_url = "http://127.0.0.1:8000"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = 8081
c.JupyterHub.db_url = f"sqlite:///{STACK_DIR / 'hub' / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STACK_DIR / "hub" / "cookie_secret")

# Debian's configurable-http-proxy does not run on NodeSource's node; use the npm one.
c.ConfigurableHTTPProxy.command = [str(REPO_ROOT / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:8001"
c.ConfigurableHTTPProxy.should_start = True
c.ConfigurableHTTPProxy.pid_file = str(STACK_DIR / "run" / "configurable-http-proxy.pid")
# The auth token comes from $CONFIGPROXY_AUTH_TOKEN, which the hub passes on to the proxy.

# --- Users ------------------------------------------------------------------------------
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = "hpc-demo"
c.Authenticator.allowed_users = {"alice", "bob", "carol", "admin"}
c.Authenticator.admin_users = {"admin"}
c.JupyterHub.load_groups = {
    "ml101": ["alice", "bob"],
    "ml101-instructors": ["carol"],
    # Storage tiers (stack/conf/bridge-config.yaml): project space per group, sensitive data.
    "climate": ["alice"],
    "genomics": ["bob"],
    "medical": ["alice"],
}

# --- Services -----------------------------------------------------------------------------
# With several bridge replicas (./stack/up --replicas N) the stack runs them behind HAProxy
# on the same address, and the hub knows the bridge as an external service.
REPLICAS = int(os.environ.get("HPC_STACK_REPLICAS") or "1")
BRIDGE_SERVICE = {
    "name": "hpc-bridge",
    "url": "http://127.0.0.1:8765",
    "api_token": secret("bridge/hub-api.token"),
    "oauth_no_confirm": True,
}
c.JupyterHub.services = [
    BRIDGE_SERVICE if REPLICAS > 1 else {
        **BRIDGE_SERVICE,
        # Through sh only to give the bridge its own log and pid file (stack/up and
        # stack/down clean up a bridge left behind by a killed hub); exec keeps the pid
        # and the hub's signals going to node itself.
        "command": [
            "/bin/sh",
            "-c",
            'echo $$ >"$HPC_BRIDGE_PID_FILE"; exec "$@" >>"$HPC_BRIDGE_LOG" 2>&1',
            "hpc-bridge",
            NODE,
            str(REPO_ROOT / "server-bridge" / "lib" / "main.js"),
            "serve",
            "--config",
            str(STACK_DIR / "bridge" / "config.yaml"),
        ],
        "cwd": str(STACK_DIR / "bridge"),
        "environment": {
            "HPC_BRIDGE_SECRET_KEY": secret("bridge/secret.key"),
            "HPC_BRIDGE_LOG": str(STACK_DIR / "log" / "bridge.log"),
            "HPC_BRIDGE_PID_FILE": str(STACK_DIR / "run" / "bridge.pid"),
        },
    },
    # Token only: lets stack scripts and tests create users, tokens and servers through
    # the standard hub API. The token is STACK_DIR/admin.token.
    {"name": "stack-admin", "api_token": secret("admin.token")},
]

c.JupyterHub.load_roles = [
    # Every user's own token (the one the lab's page config carries) may call the bridge.
    # The filtered scope must be spelled exactly like this: plain access:services does not
    # satisfy it.
    {"name": "user", "scopes": ["self", "access:services!service=hpc-bridge"]},
    # The single-user server's own token (JUPYTERHUB_API_TOKEN, which its kernels and the
    # cluster kernel launcher inherit) may call the bridge too: the default scopes of the
    # server role plus the bridge's. The bridge accepts it as the user's (kind user, the
    # bridge scope, access to the user's own server).
    {
        "name": "server",
        "scopes": [
            "users:activity!user",
            "access:servers!user",
            "access:services!service=hpc-bridge",
        ],
    },
    {
        "name": "stack-admin",
        "scopes": [
            "admin:users",
            "admin:servers",
            "tokens",
            "admin:groups",
            "list:users",
            "read:users",
        ],
        "services": ["stack-admin"],
    },
    {
        "name": "hpc-bridge-service",
        "scopes": ["list:users", "read:users", "list:groups", "read:groups"],
        "services": ["hpc-bridge"],
    },
]

# --- Single-user servers: the npm-built JupyterLab 4 app, run as the Unix user ------------
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.oauth_client_allowed_scopes = ["access:services!service=hpc-bridge"]
# Notebooks and files the lab writes are private to their owner (umask 077, not 022).
c.Spawner.cmd = [
    "/bin/sh",
    "-c",
    'umask 077 && exec /usr/bin/jupyterhub-singleuser "$@"',
    "jupyterhub-singleuser",
]
c.Spawner.args = [f"--config={LAB_RUNTIME / 'singleuser_config.py'}"]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "PYTHONPATH": str(LAB_RUNTIME),
    "JUPYTERHUB_SINGLEUSER_APP": "jupyter_server.serverapp.ServerApp",
    "HPC_LAB_RUNTIME": str(LAB_RUNTIME),
    # The bridge through the hub's proxy, for the cluster kernel specs and launcher.
    "HPC_BRIDGE_URL": "http://127.0.0.1:8000/services/hpc-bridge/",
}
c.Spawner.start_timeout = 60
c.Spawner.http_timeout = 60
