"""(being written: issue 15)"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("directory", __name__)
