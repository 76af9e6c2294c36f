"""What the suite needs from outside Python: Redis with a worker, and Chromium (PostgreSQL is
the embedded server or DATABASE_URL's, always there).

Locally a missing service skips the tests that need it, with the reason. In CI
(THINSLICE_REQUIRE_SERVICES=1) a missing service fails them instead, so nothing passes by
being skipped.
"""

from __future__ import annotations

import os

import pytest

SERVICES_REQUIRED = os.environ.get("THINSLICE_REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> None:
    if SERVICES_REQUIRED:
        pytest.fail(f"{reason} (THINSLICE_REQUIRE_SERVICES=1, so this is a failure)")
    pytest.skip(reason)
