"""`hub serve`: the embedded stack in one command: gunicorn, a Celery worker and beat.

Used by `make run`. Each part is a real process; when one stops, the others are stopped too,
so a broken worker never hides behind a healthy web server.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from flask.cli import with_appcontext

from hub.broker import BULK_QUEUE, QUEUE, ensure_folders
from hub.context import current_hub
from hub.services.demo import DEMO_ADMIN

# Threads, not sync workers: a slow client (a trickled upload, a long download) holds one thread of
# sixteen instead of one worker of two, and /healthz keeps answering beside 200 exports. The
# timeouts bound what a client that stops talking can hold.
GUNICORN_THREADS = 16
# The heartbeat file in memory, not on /tmp's disk: gthread touches it on every loop (gunicorn's
# docs advise it for containers; py-spy found a tenth of a loaded worker's samples in it).
SHM = Path("/dev/shm")  # noqa: S108 - the heartbeat file is gunicorn's own, created unlinked
GUNICORN_OPTIONS = ["--worker-class", "gthread", "--threads", str(GUNICORN_THREADS), "--timeout", "60",
                    "--graceful-timeout", "20", "--keep-alive", "5",
                    *(["--worker-tmp-dir", str(SHM)] if SHM.is_dir() else [])]


def _commands(port: int, workers: int) -> dict[str, list[str]]:
    bin_dir = Path(sys.executable).parent
    return {
        "web": [str(bin_dir / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers",
                str(workers), *GUNICORN_OPTIONS, "--access-logfile", "-", "wsgi:app"],
        # Both queues: webhook events and ticks, and imports and replays (on SQLite an import is
        # one task, so one of the two processes stays free for webhooks).
        "worker": [str(bin_dir / "celery"), "-A", "worker.app:celery", "worker", "--beat",
                   "--queues", f"{QUEUE},{BULK_QUEUE}", "--loglevel", "INFO", "--concurrency", "2",
                   "--schedule", "var/celerybeat-schedule"],
    }


@click.command()
@with_appcontext
@click.option("--port", type=int, default=None, help="Defaults to HUB_PORT (8000).")
@click.option("--web-workers", type=int, default=2, show_default=True)
def serve(port: int | None, web_workers: int) -> None:
    """Start the web server, a Celery worker and beat, and supervise them."""
    settings = current_hub().settings
    ensure_folders(settings)
    Path("var").mkdir(exist_ok=True)
    metrics_dir = Path("var/prometheus")  # gunicorn workers add their counters up here
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir.resolve())}
    procs = {name: subprocess.Popen(cmd, env=env)
             for name, cmd in _commands(port or settings.port, web_workers).items()}
    click.echo(f"hub serving on http://127.0.0.1:{port or settings.port} (Ctrl-C stops)")
    if settings.demo_admin_password:
        click.echo(f"sign in at http://127.0.0.1:{port or settings.port}/ as {DEMO_ADMIN} "
                   f"with password {settings.demo_admin_password} (HUB_DEMO_ADMIN_PASSWORD in .env)")
    signal.signal(signal.SIGTERM, lambda *_: _stop(procs))
    try:
        while all(p.poll() is None for p in procs.values()):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        _stop(procs)


def _stop(procs: dict[str, subprocess.Popen]) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            proc.terminate()
    for proc in procs.values():
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
