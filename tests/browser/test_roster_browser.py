"""A district admin imports a roster, asked first whether it is the district's, then rolls the
import back from its page, in a real Chromium; each page passes axe."""

from __future__ import annotations

import io
import zipfile

import pytest

from classrooms.models import School
from tests import factories
from tests.browser.axe import assert_accessible
from tests.browser.conftest import log_in
from tests.classrooms.test_oneroster import FIXTURES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _export_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted((FIXTURES / "valid").iterdir()):
            archive.write(path, path.name)
    return buffer.getvalue()


def test_admin_confirms_the_district_imports_and_rolls_back(
    page, live_server, tmp_path, settings
) -> None:
    settings.THINSLICE_ROSTER_UPLOAD_DIR = str(tmp_path / "uploads")
    district = factories.DistrictFactory(name="Riverbend Unified")
    factories.UserFactory(username="admin_rb", district=district, is_district_admin=True)
    upload = tmp_path / "export.zip"
    upload.write_bytes(_export_zip())

    log_in(page, live_server, "admin_rb")
    page.goto(f"{live_server.url}/roster/import/")
    page.set_input_files("input[type=file]", str(upload))
    page.get_by_role("button", name="Check the file (dry run)").first.click()
    page.wait_for_load_state()
    assert page.get_by_text("Is this Riverbend Unified's roster?").is_visible()
    assert_accessible(page)

    page.get_by_label("Yes, import this export into Riverbend Unified").check()
    page.get_by_role("button", name="Import: apply").click()
    page.wait_for_load_state()
    assert School.objects.filter(district=district).count() == 2
    page.get_by_role("link", name="Review or roll back this import").click()
    page.wait_for_load_state()
    assert_accessible(page)

    page.get_by_role("button", name="Roll back import").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="The import was rolled back").is_visible()
    assert not School.objects.filter(district=district).exists()
    assert_accessible(page)
