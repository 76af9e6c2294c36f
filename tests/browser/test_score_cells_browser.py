"""The grid's cell check (static/assessments/score_cells.js) in a real Chromium answers every case
of tests/cases/score_cells.json as the server's parse_cell does (tests/assessments/
test_score_cells.py runs the same table on the server)."""

from __future__ import annotations

import pytest

from tests.cases import score_cell_cases

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_grid_check_answers_every_case_of_the_shared_table(page, live_server):
    page.goto(f"{live_server.url}/login/")
    cases = score_cell_cases()
    answers = page.evaluate(
        """async ([url, cases]) => {
            const { checkCell } = await import(url);
            return cases.map((c) => checkCell(c.typed, c.max));
        }""",
        [f"{live_server.url}/static/assessments/score_cells.js", cases],
    )
    wrong = []
    for case, answer in zip(cases, answers, strict=True):
        expected = (
            {"ok": False, "reason": case["error"]}
            if "error" in case
            else {"ok": True, "value": case["value"]}
        )
        if answer != expected:
            wrong.append((case["typed"], answer, expected))
    assert wrong == []
