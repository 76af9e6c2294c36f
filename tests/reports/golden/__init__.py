"""The growth rebuild's sized statements as they run, for a few shapes of units.

``python -m tests.reports.golden`` writes them again after a deliberate change to
reports/growth_build/sql/students.sql, class_cells.sql, cells.sql or summaries_write.sql (or
statements.py); review the diff.
"""

from __future__ import annotations

from pathlib import Path

GOLDEN_DIR = Path(__file__).resolve().parent

# The statements sized to the widest unit being rebuilt.
KINDS = ("students", "class_cells", "cells")

# (assessments, skills) of the widest unit: a unit with no plan yet, a small one, the demo's
# (a pre, two checkpoints, a post; three skills) and the widest the district cap allows.
SHAPES = ((0, 0), (3, 2), (4, 3), (10, 6))


def golden_path(kind: str, assessments: int, skills: int) -> Path:
    if kind != "students":
        return GOLDEN_DIR / f"{kind}_{skills}_skills.sql"
    return GOLDEN_DIR / f"students_{assessments}_assessments_{skills}_skills.sql"


def generated(kind: str, assessments: int, skills: int) -> str:
    from reports.growth_build import statements

    if kind == "class_cells":
        return statements.class_cells_statement(skills)
    if kind == "cells":
        return statements.cells_statement(skills)
    return statements.students_statement(assessments, skills)


def summaries_write_path(level: str) -> Path:
    return GOLDEN_DIR / f"summaries_write_{level}.sql"


def summaries_write_generated(level: str) -> str:
    from reports.growth_build import statements

    return statements.summaries_write_statement(level)
