"""The access log never carries a webhook URL token."""

from datetime import timedelta
from types import SimpleNamespace

from gunicorn.config import Config

from topleft.gunicorn_logging import RedactingLogger
from topleft.redaction import redact_hook_tokens


def test_it_redacts_the_token_of_every_receiver_path():
    assert redact_hook_tokens("POST /hooks/connectwise/Ab_9-x/?recordId=5 HTTP/1.1") == (
        "POST /hooks/connectwise/<token>/?recordId=5 HTTP/1.1"
    )
    assert redact_hook_tokens("/hooks/autotask/secret-token/") == "/hooks/autotask/<token>/"
    assert redact_hook_tokens("/boards/3/?q=hooks") == "/boards/3/?q=hooks"


def test_it_logs_the_request_without_the_token():
    logger = RedactingLogger(Config())
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/hooks/connectwise/s3cr3t-token/?recordId=9",
        "PATH_INFO": "/hooks/connectwise/s3cr3t-token/",
        "QUERY_STRING": "recordId=9",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.5",
    }
    atoms = logger.atoms(
        SimpleNamespace(status="202 Accepted", sent=10, headers=[]), {}, environ, timedelta(milliseconds=3)
    )
    line = logger.cfg.access_log_format % atoms
    assert "s3cr3t-token" not in line and "/hooks/connectwise/<token>/" in line and "202" in line
