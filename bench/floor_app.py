"""The hand-built durable floor of bench/bench_pipeline.py: what a team would write by hand.

One Flask view: the Stripe SDK's signature check (`stripe.Webhook.construct_event`), one
autocommitted `INSERT … ON CONFLICT DO NOTHING` into a table of its own, `LPUSH` of the event id
to Redis, 200. Nothing else (no raw delivery row, no metrics, no log, no Celery), so it is the
least a durable webhook endpoint can do on this stack; the hub's ingest is measured against it.

Each gunicorn worker opens its own PostgreSQL connection and Redis client on first use, after
the fork. Settings come from the environment (the bench sets them):
FLOOR_DATABASE_URL (libpq URL), FLOOR_REDIS_URL, FLOOR_STRIPE_SECRET.

    gunicorn --pythonpath bench --workers 4 floor_app:app
"""

from __future__ import annotations

import os

import psycopg
import redis
import stripe
from flask import Flask, request

TABLE_DDL = """CREATE TABLE IF NOT EXISTS floor_inbox (
    id bigserial PRIMARY KEY,
    event_id text NOT NULL UNIQUE,
    body jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now())"""
INSERT = "INSERT INTO floor_inbox (event_id, body) VALUES (%s, %s) ON CONFLICT DO NOTHING"
QUEUE = "floor:events"

app = Flask(__name__)
_clients: dict[str, object] = {}


def _database() -> psycopg.Connection:
    conn = _clients.get("db")
    if not isinstance(conn, psycopg.Connection) or conn.closed:
        conn = psycopg.connect(os.environ["FLOOR_DATABASE_URL"], autocommit=True)
        _clients["db"] = conn
    return conn


def _broker() -> redis.Redis:
    client = _clients.get("redis")
    if not isinstance(client, redis.Redis):
        client = redis.Redis.from_url(os.environ["FLOOR_REDIS_URL"])
        _clients["redis"] = client
    return client


@app.get("/healthz")
def health() -> tuple[dict[str, str], int]:
    return {"status": "ok"}, 200


@app.post("/webhooks/stripe")
def stripe_webhook() -> tuple[dict[str, object], int]:
    body = request.get_data()
    try:
        event = stripe.Webhook.construct_event(
            body, request.headers.get("Stripe-Signature", ""), os.environ["FLOOR_STRIPE_SECRET"])
    except (ValueError, stripe.SignatureVerificationError) as exc:
        return {"error": str(exc)}, 400
    _database().execute(INSERT, (event.id, body.decode()))
    _broker().lpush(QUEUE, event.id)
    return {"received": 1}, 200
