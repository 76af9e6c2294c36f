"""The statements the growth rebuild runs are readable in review: most are plain files in
reports/growth_build/sql/; those sized to the widest unit are pinned here as they run."""

from __future__ import annotations

import re

import pytest

from reports.growth_build import statements
from tests.reports.golden import (
    KINDS,
    SHAPES,
    generated,
    golden_path,
    summaries_write_generated,
    summaries_write_path,
)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("assessments", "skills"), SHAPES)
def test_the_sized_statements_are_the_reviewed_ones(kind, assessments, skills) -> None:
    expected = golden_path(kind, assessments, skills).read_text()

    assert generated(kind, assessments, skills) == expected, (
        "The statement changed: write the golden files again with `python -m"
        " tests.reports.golden` and review the difference."
    )


@pytest.mark.parametrize("level", statements.SUMMARY_LEVELS)
def test_the_summary_writes_are_the_reviewed_ones(level) -> None:
    assert summaries_write_generated(level) == summaries_write_path(level).read_text(), (
        "The statement changed: write the golden files again with `python -m"
        " tests.reports.golden` and review the difference."
    )


def test_every_statement_names_only_parameters_the_rebuild_passes() -> None:
    """A percent sign in a comment, or a misspelt parameter, would only fail at run time."""
    passed = {
        "district_id", "classroom_unit_ids", "unit_ids", "group_ids", "minimum_n",
        "growth_target", "proficiency_cut", "developing_cut", "little_room", "hake_medium_from",
        "hake_high_from", "tolerance", "exact_sum_scale", "namespace", "read_from",
        "built_at", "definition", "measure_ids", "measure_units", "measure_positions",
        "measure_weeks", "measure_kinds", "measure_codes", "measure_skill_indexes",
        "measure_maxima", "node_classroom_unit_ids", "node_unit_ids", "node_school_ids",
        "quantile_n", "quantile_t",
    }  # fmt: skip
    texts = [path.read_text() for path in statements.SQL_DIR.glob("*.sql")]
    texts += [generated(kind, 4, 3) for kind in KINDS]
    texts += [summaries_write_generated(level) for level in statements.SUMMARY_LEVELS]
    for text in texts:
        assert not re.search(r"%(?!\()", text), "a lone % in a statement"
        assert set(re.findall(r"%\((\w+)\)s", text)) <= passed
