"""gunicorn's access log without webhook URL tokens.

The receivers' URLs (`/hooks/<provider>/<token>/`) carry the connection's secret token; an access
log line must not hand it to whoever reads the logs. Used by topleft/gunicorn_conf.py.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

_HOOK_TOKEN = re.compile(r"(/hooks/[A-Za-z0-9_-]+/)[^/?\s]+")
_PATH_ATOMS = ("r", "U")  # the request line and the path


def redact_hook_tokens(text: str) -> str:
    """`/hooks/connectwise/abc123/?recordId=5` → `/hooks/connectwise/<token>/?recordId=5`."""
    return _HOOK_TOKEN.sub(r"\1<token>", text)


class RedactingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for name in _PATH_ATOMS:
            if isinstance(atoms.get(name), str):
                atoms[name] = redact_hook_tokens(atoms[name])
        return atoms
