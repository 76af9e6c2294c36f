"""In CI the suite must really run on PostgreSQL, not fall back to SQLite."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.services import SERVICES_REQUIRED


@pytest.mark.django_db
def test_ci_runs_on_postgresql():
    if not SERVICES_REQUIRED:
        pytest.skip("only checked where THINSLICE_REQUIRE_SERVICES=1 (CI)")
    assert connection.vendor == "postgresql"
