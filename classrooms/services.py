"""Writes and checks for districts, rosters and staff."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from classrooms import access


def district_mismatch_problems(instance: Any, related: Iterable[Any]) -> list[str]:
    """A row may only point at rows of its own district (no school of one district with a term,
    teacher, student or unit of another). Returns the mismatches as sentences."""
    own_district_id = _district_id_or_none(instance)
    problems = []
    for other in related:
        other_district_id = _district_id_or_none(other)
        if other_district_id is None:
            continue
        if own_district_id is None:
            own_district_id = other_district_id
            continue
        if other_district_id != own_district_id:
            problems.append(
                f"'{other}' belongs to another district; choose one from this district."
            )
    return problems


def _district_id_or_none(row: Any) -> int | None:
    try:
        return access.target_district_id(row)
    except (TypeError, AttributeError, ValueError):
        return None
