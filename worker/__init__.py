"""Celery worker: the app built from the Flask app, and thin tasks."""
