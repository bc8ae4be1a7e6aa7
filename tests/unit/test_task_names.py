"""Task names live in one place (hub.queue): each is a task the worker registers, beat schedules
only them, and the long ones travel on a queue of their own that every worker consumes."""

from __future__ import annotations

import logging

import pytest

from hub import queue
from hub.broker import BULK_QUEUE, QUEUE
from hub.queue import TaskQueue
from worker.celery_app import QuietTicks, beat_schedule, make_celery


@pytest.fixture
def celery(app):  # type: ignore[no-untyped-def]
    """The worker's Celery app, built as `celery -A worker.app:celery worker` builds it."""
    built = make_celery(app)
    yield built
    for name in QuietTicks.LOGGERS:  # make_celery installs its filter; leave the loggers as found
        logger = logging.getLogger(name)
        for quiet in [f for f in logger.filters if isinstance(f, QuietTicks)]:
            logger.removeFilter(quiet)


def test_every_task_name_is_a_registered_task_and_every_task_has_one(celery):  # type: ignore[no-untyped-def]
    registered = {name for name in celery.tasks if not name.startswith("celery.")}

    assert registered == set(queue.TASK_NAMES)


def test_every_name_the_module_defines_is_in_the_list(celery):  # type: ignore[no-untyped-def]
    constants = {value for name, value in vars(queue).items()
                 if name.isupper() and isinstance(value, str) and value.startswith("hub.")}

    assert constants == set(queue.TASK_NAMES)
    assert set(queue.BULK_TASKS) <= constants


def test_beat_schedules_task_names_and_each_tick_expires_before_the_next_is_due(settings):  # type: ignore[no-untyped-def]
    schedule = beat_schedule(settings)

    assert {entry["task"] for entry in schedule.values()} <= set(queue.TASK_NAMES)
    for name, entry in schedule.items():
        assert 0 < entry["options"]["expires"] < entry["schedule"], name


def test_imports_their_parts_replays_and_bulk_assignments_go_to_the_bulk_queue_the_rest_to_the_hub_queue(  # type: ignore[no-untyped-def]
    celery, settings
):
    producer = TaskQueue(settings).celery  # what the web process and the services publish with
    for name in queue.TASK_NAMES:
        expected = BULK_QUEUE if name in queue.BULK_TASKS else QUEUE
        for app in (celery, producer):
            assert app.amqp.router.route({}, name)["queue"].name == expected, name
    assert set(queue.BULK_TASKS) == {queue.PROCESS_IMPORT, queue.PROCESS_IMPORT_PART,
                                     queue.RUN_REPLAY_JOB, queue.RUN_BULK_ASSIGN_JOB}


def test_a_worker_started_without_queues_consumes_both(celery):  # type: ignore[no-untyped-def]
    assert set(celery.amqp.queues.consume_from) == {QUEUE, BULK_QUEUE}


@pytest.mark.parametrize("name", [queue.PROCESS_EVENT, queue.PROCESS_IMPORT, queue.PROCESS_IMPORT_PART])
def test_work_that_changes_state_is_acked_late_and_redelivered_when_its_worker_dies(celery, name):  # type: ignore[no-untyped-def]
    task = celery.tasks[name]

    assert task.acks_late and task.reject_on_worker_lost
