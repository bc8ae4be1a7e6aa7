"""The ceiling of bench/bench_pipeline.py: Flask under gunicorn answering 200 to every request.

It reads the body and does nothing else, so its rate is what the web server, Flask and the load
generator cost on this machine; no webhook endpoint built on the same stack can go faster.

    gunicorn --pythonpath bench --workers 4 bare_app:app
"""

from __future__ import annotations

from flask import Flask, request

app = Flask(__name__)


@app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
@app.route("/<path:path>", methods=["GET", "POST"])
def answer(path: str) -> tuple[dict[str, int], int]:
    request.get_data()
    return {"received": 1}, 200
