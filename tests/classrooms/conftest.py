"""Fixtures of the OneRoster import tests (test_oneroster*.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from classrooms.models import District
from tests import factories


@pytest.fixture
def district(db: Any) -> District:
    """The district the OneRoster fixtures (tests/fixtures/oneroster/) are for: their district
    org is "Riverside Unified" (identifier RUSD, sourcedId org-district)."""
    return factories.DistrictFactory(name="Riverside Unified")


@pytest.fixture
def upload_folder(settings: Any, tmp_path: Path) -> Path:
    """Where the roster import keeps a dry run's plan until it is imported."""
    settings.THINSLICE_ROSTER_UPLOAD_DIR = str(tmp_path / "uploads")
    return tmp_path / "uploads"
