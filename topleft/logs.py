"""Logging: one line per event, carrying the connection and run ids where they are known.

Ids reach a record two ways, and a handler-level filter (ContextFilter) merges them:
- `log_context(connection_id=..)` binds ids for a block of code (the Celery task signals in
  topleft/celery.py bind the task's `connection_id` argument for the whole task, so a PSA retry
  warning deep inside a refresh still names its connection);
- `extra=log_ids(connection_id=.., run_id=..)` at a log site that knows ids the block does not
  (the sync run's id exists only once its SyncRun row does).

`LOG_FORMAT=json` writes one JSON object per line (python-json-logger) for log shippers;
`plain` (the default) stays readable on a terminal and appends the known ids as key=value.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

from topleft.redaction import redact_hook_tokens

# The ids a record may carry, in the order the plain formatter prints them.
CONTEXT_FIELDS = ("connection_id", "run_id", "outbox_entry_id", "task_name", "task_id")
LOG_FORMATS = ("plain", "json")

_context: ContextVar[dict[str, Any] | None] = ContextVar("topleft_log_context", default=None)


def _bound() -> dict[str, Any]:
    return _context.get() or {}


def log_ids(**ids: Any) -> dict[str, Any]:
    """The ids that are known (not None), for `logger.info(..., extra=log_ids(run_id=run.pk))`."""
    unknown = set(ids) - set(CONTEXT_FIELDS)
    if unknown:
        raise ValueError(f"not a log context field: {', '.join(sorted(unknown))}")
    return {name: value for name, value in ids.items() if value is not None}


def run_log_ids(run: Any) -> dict[str, Any]:
    """The ids of a SyncRun, for `extra=` at a sync run's log sites."""
    return log_ids(connection_id=run.connection_id, run_id=run.pk)


def log_context_bind(**ids: Any) -> Token:
    """Add ids to the current context until `log_context_reset(token)` (for paired signals)."""
    return _context.set({**_bound(), **log_ids(**ids)})


def log_context_reset(token: Token) -> None:
    _context.reset(token)


@contextmanager
def log_context(**ids: Any) -> Iterator[None]:
    """Every record logged inside the block carries these ids (unless the call passes its own)."""
    token = log_context_bind(**ids)
    try:
        yield
    finally:
        log_context_reset(token)


def current_log_context() -> dict[str, Any]:
    return dict(_bound())


class ContextFilter(logging.Filter):
    """Sets every CONTEXT_FIELDS attribute on the record: the call's `extra` wins, then the bound
    context, else None (so formatters can always read them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        bound = _bound()
        for name in CONTEXT_FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, bound.get(name))
        return True


class RedactHookTokens(logging.Filter):
    """Takes webhook URL tokens out of every line (the development server's and Django's request
    logs print the path, and a receiver's path carries its connection's secret token)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_hook_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def _known_ids(record: logging.LogRecord) -> list[tuple[str, Any]]:
    return [(name, value) for name in CONTEXT_FIELDS if (value := getattr(record, name, None)) is not None]


class PlainFormatter(logging.Formatter):
    """`time LEVEL logger message [connection_id=3 run_id=17]` (tracebacks keep their lines)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        ids = " ".join(f"{name}={value}" for name, value in _known_ids(record))
        return f"{line} [{ids}]" if ids else line


class JsonFormatter(_LibraryJsonFormatter):
    """One JSON object per line: time, level, logger, message, the known ids, any other `extra`,
    and the traceback as a string field (so an exception never spans several lines)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger", "asctime": "time"})
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s", *args, **kwargs)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        # Unknown ids are left out rather than written as null: fewer bytes, same queries.
        return {key: value for key, value in log_data.items() if value is not None}


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """settings.LOGGING: one console handler with the id filter and the chosen formatter."""
    if log_format not in LOG_FORMATS:
        raise ImproperlyConfigured(f"LOG_FORMAT={log_format!r} is not one of {', '.join(LOG_FORMATS)}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "topleft.logs.ContextFilter"},
            "hook_tokens": {"()": "topleft.logs.RedactHookTokens"},
        },
        "formatters": {
            "plain": {
                "()": "topleft.logs.PlainFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            },
            "json": {"()": "topleft.logs.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["context", "hook_tokens"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
    }
