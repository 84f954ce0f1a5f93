"""gunicorn's access log without webhook URL tokens.

The receivers' URLs (`/hooks/<provider>/<token>/`) carry the connection's secret token; an access
log line must not hand it to whoever reads the logs. Used by topleft/gunicorn_conf.py.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from topleft.redaction import redact_hook_tokens

_PATH_ATOMS = ("r", "U")  # the request line and the path


class RedactingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for name in _PATH_ATOMS:
            if isinstance(atoms.get(name), str):
                atoms[name] = redact_hook_tokens(atoms[name])
        return atoms
