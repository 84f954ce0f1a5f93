"""Log lines: one JSON object per event with LOG_FORMAT=json, the connection / run ids from a
log_context, a call's `extra` or a Celery task's `connection_id` argument."""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.support.logs import captured_lines
from topleft.celery import app
from topleft.logs import PlainFormatter, log_context, log_ids, logging_config

logger = logging.getLogger("tests.logging")


@app.task(name="tests.logging_probe")
def logging_probe(connection_id: int, note: str) -> None:
    logger.warning("probe %s", note)


def test_it_writes_one_json_object_per_event_with_the_known_ids():
    with captured_lines() as lines:
        with log_context(connection_id=3):
            logger.warning("page %s failed", 2, extra=log_ids(run_id=17))
            logger.info("no run here")
    first, second = lines.records()
    assert first["message"] == "page 2 failed" and first["level"] == "WARNING"
    assert first["logger"] == "tests.logging" and first["time"]
    assert first["connection_id"] == 3 and first["run_id"] == 17
    assert second["connection_id"] == 3 and "run_id" not in second  # unknown ids are left out


def test_it_keeps_an_exception_on_its_one_line():
    with captured_lines() as lines:
        try:
            raise ValueError("bad\nvalue")
        except ValueError:
            logger.exception("crashed", extra=log_ids(connection_id=5, run_id=6))
    assert len(lines.text.splitlines()) == 1
    [record] = lines.records()
    assert record["message"] == "crashed" and "ValueError: bad" in record["exc_info"]
    assert (record["connection_id"], record["run_id"]) == (5, 6)


def test_it_appends_the_known_ids_to_a_plain_line():
    plain = PlainFormatter("%(levelname)s %(name)s %(message)s")
    with captured_lines(plain) as lines:
        with log_context(connection_id=3):
            logger.warning("with ids", extra=log_ids(run_id=4))
        logger.warning("without ids")
    assert lines.text.splitlines() == [
        "WARNING tests.logging with ids [connection_id=3 run_id=4]",
        "WARNING tests.logging without ids",
    ]


def test_it_restores_the_outer_context_after_a_block():
    with captured_lines() as lines:
        with log_context(connection_id=1):
            with log_context(connection_id=2, run_id=9):
                logger.warning("inner")
            logger.warning("outer")
        logger.warning("none")
    inner, outer, none = lines.records()
    assert (inner["connection_id"], inner["run_id"]) == (2, 9)
    assert outer["connection_id"] == 1 and "run_id" not in outer
    assert "connection_id" not in none


def test_it_refuses_an_unknown_id_name():
    with pytest.raises(ValueError, match="not a log context field: conection_id"):
        log_ids(conection_id=1)


def test_it_binds_a_celery_tasks_connection_id_for_the_task_only():
    with captured_lines() as lines:
        result = logging_probe.apply(args=(42,), kwargs={"note": "inside"})
        logger.warning("after the task")
    by_message = {r["message"].split("[")[0]: r for r in lines.records()}
    inside, succeeded = by_message["probe inside"], by_message["Task tests.logging_probe"]
    after = by_message["after the task"]
    for record in (inside, succeeded):  # our line and Celery's own
        assert record["connection_id"] == 42
        assert record["task_name"] == "tests.logging_probe" and record["task_id"] == result.id
    assert "connection_id" not in after and "task_id" not in after


def test_it_switches_the_console_formatter_with_log_format():
    assert logging_config(log_format="json", level="INFO")["handlers"]["console"]["formatter"] == "json"
    assert logging_config(log_format="plain", level="INFO")["handlers"]["console"]["formatter"] == "plain"
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT"):
        logging_config(log_format="xml", level="INFO")


def test_it_takes_webhook_tokens_out_of_every_log_line():
    import logging

    from topleft.logs import RedactHookTokens

    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("POST /hooks/connectwise/s3cr3t/?recordId=5 HTTP/1.1", 202, 36),
        None,
    )
    assert RedactHookTokens().filter(record) is True
    assert record.getMessage() == '"POST /hooks/connectwise/<token>/?recordId=5 HTTP/1.1" 202 36'
