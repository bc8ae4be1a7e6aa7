"""What Celery workers do with an import, done in the test's process: the import task, then each
part task it handed out (PostgreSQL), one after the other, taken off the recording queue.

Service-level tests only: real workers, side by side, are in tests/e2e/test_import_worker.py.
"""

from __future__ import annotations

from hub.queue import PROCESS_IMPORT_PART
from hub.services.hub import Hub
from hub.services.imports.run import CHUNK_LINES, process_import, process_import_part


def run_import_tasks(hub: Hub, import_id: int, chunk_lines: int = CHUNK_LINES) -> str:
    """The import task and the part tasks it handed out; what the last of them answered (the
    import's status once the last part closed it)."""
    status = process_import(hub, import_id, chunk_lines=chunk_lines)
    return run_part_tasks(hub, chunk_lines) or status


def run_part_tasks(hub: Hub, chunk_lines: int = CHUNK_LINES) -> str | None:
    """Run every part task enqueued so far (and those they enqueue), oldest first; None when
    there was none.

    Each runs even when one before it raised, as separate tasks would; the first error is
    raised once all have run.
    """
    sent = hub.queue.sent  # type: ignore[attr-defined]  # the tests' RecordingQueue
    errors: list[Exception] = []
    status = None
    while tasks := [message for message in sent if message[0] == PROCESS_IMPORT_PART]:
        sent.remove(tasks[0])
        try:
            status = process_import_part(hub, *tasks[0][1], chunk_lines=chunk_lines)
        except Exception as exc:  # noqa: BLE001 - raised below, after the other parts
            errors.append(exc)
    if errors:
        raise errors[0]
    return status
