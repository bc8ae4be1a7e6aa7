"""(being written: issue 15)"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("bulk", __name__)
