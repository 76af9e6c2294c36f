"""Tables of cases read by both the Python tests and the browser tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CASES = Path(__file__).parent


def score_cell_cases() -> list[dict[str, Any]]:
    """tests/cases/score_cells.json: what a typed cell means, for parse_cell and the grid."""
    return json.loads((CASES / "score_cells.json").read_text(encoding="utf-8"))["cases"]
