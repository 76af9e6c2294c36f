"""The SQL of the growth rebuild, one statement per file in ``sql/``, read once per process.

The files are what runs: nothing is assembled from fragments, so a reviewer reads each
statement whole. Every statement takes named parameters (``%(name)s``); which ones, and the
working tables each one reads and writes, are said at the top of its file.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

SQL_DIR = Path(__file__).resolve().parent / "sql"


@cache
def statement(name: str) -> str:
    """The statement in ``sql/<name>.sql``."""
    return (SQL_DIR / f"{name}.sql").read_text()


def execute(cursor: Any, name: str, parameters: dict[str, Any]) -> None:
    """Run ``sql/<name>.sql`` with ``parameters``."""
    cursor.execute(statement(name), parameters)
