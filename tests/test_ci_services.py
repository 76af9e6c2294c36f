"""In CI the suite must really run on the machine's PostgreSQL, not on the embedded one."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.services import SERVICES_REQUIRED


@pytest.mark.django_db
def test_ci_runs_on_the_postgresql_of_database_url():
    if not SERVICES_REQUIRED:
        pytest.skip("only checked where THINSLICE_REQUIRE_SERVICES=1 (CI)")
    assert connection.settings_dict["ENGINE"] == "django.db.backends.postgresql"
    assert connection.settings_dict["PORT"] == 5432
