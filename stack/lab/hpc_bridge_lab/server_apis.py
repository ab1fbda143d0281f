"""The two REST/WebSocket APIs of jupyter-server 2 that JupyterLab 4 asks for and
Debian's jupyter-server 1.23 lacks: ``GET /api/me`` (who the user is) and the event
bus ``/api/events/subscribe``. Without them every page load logs 404s and the
frontend keeps reconnecting the event socket.

jupyter-server 1.23 authorises nothing beyond login, so every permission asked for
is granted; no server-side events exist here, so the event socket stays open and
silent (as jupyter-server 2's does when nothing is emitted).
"""

import json

from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.base.zmqhandlers import WebSocketMixin
from tornado import web
from tornado.websocket import WebSocketHandler


def _identity(user):
    """jupyter-server 2's identity model from 1.23's current user (a hub model or a name)."""
    if isinstance(user, dict):
        username = user.get("name") or "anonymous"
    else:
        username = str(user)
    return {
        "username": username,
        "name": username,
        "display_name": username,
        "initials": username[:1].upper() or None,
        "avatar_url": None,
        "color": None,
    }


class IdentityHandler(APIHandler):
    """``GET /api/me``: the user's identity and the permissions asked for."""

    @web.authenticated
    def get(self):
        try:
            asked = json.loads(self.get_argument("permissions", "{}"))
        except ValueError:
            raise web.HTTPError(400, "permissions is not JSON") from None
        if not isinstance(asked, dict) or not all(
            isinstance(actions, list) for actions in asked.values()
        ):
            raise web.HTTPError(400, "permissions must map resources to lists of actions")
        self.finish(
            json.dumps(
                {
                    "identity": _identity(self.current_user),
                    "permissions": {resource: actions for resource, actions in asked.items()},
                }
            )
        )


class EventsSocketHandler(WebSocketMixin, WebSocketHandler, JupyterHandler):
    """``/api/events/subscribe``: accepted for a logged-in user, nothing is ever sent."""

    def set_default_headers(self):
        pass  # JupyterHandler's headers are for pages, not for a WebSocket upgrade

    async def get(self, *args, **kwargs):
        if self.current_user is None:
            raise web.HTTPError(403)
        await super().get(*args, **kwargs)

    def on_message(self, message):
        pass


HANDLERS = [
    (r"/api/me", IdentityHandler),
    (r"/api/events/subscribe", EventsSocketHandler),
]
