"""Celery's routine lines about the 5-second retry tick are DEBUG; everything else keeps its level."""

from __future__ import annotations

import logging

import pytest
from celery.app.trace import LOG_FAILURE, LOG_RECEIVED, LOG_SUCCESS

from hub.config import load_settings
from worker.celery_app import QuietTicks, beat_schedule


@pytest.fixture
def quiet():  # type: ignore[no-untyped-def]
    installed = QuietTicks.install(beat_schedule(load_settings(environ={})))
    yield installed
    for name in QuietTicks.LOGGERS:
        logging.getLogger(name).removeFilter(installed)


def lines(caplog, level=logging.INFO):  # type: ignore[no-untyped-def]
    return [(r.name, r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= level]


def test_the_ticks_are_the_frequent_entries(quiet):  # type: ignore[no-untyped-def]
    assert {"enqueue-due-retries", "hub.enqueue_due_retries", "hub.sweep_inbox"} <= quiet.names
    assert "hub.prune_inbox" not in quiet.names and "hub.process_event" not in quiet.names


def test_idle_tick_lines_drop_below_info(quiet, caplog):  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO)
    logging.getLogger("celery.beat").info("Scheduler: Sending due task %s (%s)", "enqueue-due-retries",
                                          "hub.enqueue_due_retries")
    logging.getLogger("celery.worker.strategy").info(LOG_RECEIVED, {"name": "hub.enqueue_due_retries", "id": "1"})
    logging.getLogger("celery.app.trace").info(LOG_SUCCESS, {
        "name": "hub.enqueue_due_retries", "id": "1", "runtime": 0.01, "return_value": "0"})
    assert lines(caplog) == []


def test_a_tick_that_did_work_and_other_tasks_stay_info(quiet, caplog):  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO)
    trace = logging.getLogger("celery.app.trace")
    trace.info(LOG_SUCCESS, {"name": "hub.enqueue_due_retries", "id": "2", "runtime": 0.01, "return_value": "3"})
    logging.getLogger("celery.worker.strategy").info(LOG_RECEIVED, {"name": "hub.process_event", "id": "3"})
    logging.getLogger("celery.beat").info("Scheduler: Sending due task %s (%s)", "prune-inbox", "hub.prune_inbox")
    trace.error(LOG_FAILURE, {"name": "hub.enqueue_due_retries", "id": "4", "exc": "boom", "description": "raised"})
    assert [level for _, level, _ in lines(caplog)] == ["INFO", "INFO", "INFO", "ERROR"]
    assert "succeeded in 0.01s: 3" in lines(caplog)[0][2]


def test_debug_logging_still_shows_the_ticks(quiet, caplog):  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    logging.getLogger("celery.worker.strategy").info(LOG_RECEIVED, {"name": "hub.sweep_inbox", "id": "5"})
    assert lines(caplog, logging.DEBUG) == [
        ("celery.worker.strategy", "DEBUG", "Task hub.sweep_inbox[5] received")]


def test_installing_twice_replaces_the_filter(quiet):  # type: ignore[no-untyped-def]
    again = QuietTicks.install(beat_schedule(load_settings(environ={})))
    try:
        assert [f for f in logging.getLogger("celery.beat").filters if isinstance(f, QuietTicks)] == [again]
    finally:
        for name in QuietTicks.LOGGERS:
            logging.getLogger(name).removeFilter(again)
