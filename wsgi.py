"""WSGI entry point for gunicorn: `gunicorn wsgi:app` (each worker imports it after the fork)."""

from hub.app import create_app
from hub.web import prepare_server_process

app = create_app()
prepare_server_process(app)
