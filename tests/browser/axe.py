"""axe-core accessibility checks in the real Chromium of the browser tests.

axe-core comes from the axe-playwright-python package (a pip dependency, no CDN): it is injected
into the page as it stands, so a check after an htmx swap or a dialog opening checks that state.
"""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe

_AXE = Axe()

# The WCAG 2.1 A and AA rules and axe's best practices.
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
}


def axe_violations(page: Any) -> list[str]:
    """One line per violated rule and element on the page as it is now."""
    results = _AXE.run(page, options=AXE_OPTIONS)
    lines = []
    for violation in results.response["violations"]:
        for node in violation["nodes"]:
            lines.append(
                f"{violation['id']} ({violation['impact']}): {node['target']}: {violation['help']}"
            )
    return lines


def assert_accessible(page: Any) -> None:
    """The page as it stands has no axe violation."""
    violations = axe_violations(page)
    assert not violations, f"axe on {page.url}:\n" + "\n".join(violations)
