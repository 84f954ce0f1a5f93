"""Capturing log lines as TopLeft's console handler writes them (the id filter, a formatter)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from topleft.logs import ContextFilter, JsonFormatter


class CapturedLines:
    def __init__(self, stream: io.StringIO):
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def records(self) -> list[dict]:
        """Every line parsed as JSON (a line that is not one JSON object fails the test)."""
        return [json.loads(line) for line in self.text.splitlines()]


@contextmanager
def captured_lines(formatter: logging.Formatter | None = None) -> Iterator[CapturedLines]:
    """What the root logger's records look like through a console handler like settings.LOGGING's."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(formatter or JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield CapturedLines(stream)
    finally:
        root.removeHandler(handler)
