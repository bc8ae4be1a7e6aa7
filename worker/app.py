"""Worker entry point: `celery -A worker.app:celery worker`. This is a composition root."""

from hub.app import create_app
from worker.celery_app import make_celery

flask_app = create_app()
celery = make_celery(flask_app)
