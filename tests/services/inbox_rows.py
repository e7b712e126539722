"""Reading an inbox file behind the service's back, as an owner with sqlite3 would: what was really written."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def rows(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()
