"""Bulk assignments from the customer list: the preview a confirmation shows, and the background
job that applies a large selection chunk by chunk (being written: issue 15)."""

from __future__ import annotations

from hub.services.hub import Hub


def run_bulk_assign_job(hub: Hub, job_id: int) -> str:
    raise NotImplementedError
