"""Every way a score can change leaves its history: who, when, old and new, in the same
transaction (issue 6, item 7).

The ways in: the score grid (its page posts to the save URL it renders), the bulk API (token),
the CSV upload (preview, then apply). Each is driven over HTTP as a user would, and each must
leave exactly one ScoreChange row per changed cell, naming the user, the time, the old and the
new value and the score's new version. Unchanged cells leave none.

"Same transaction" is proved on PostgreSQL by making the database fail on purpose: at COMMIT,
after the scores and their history were written (a deferred constraint trigger on the score
table), and while the history is inserted. Either way neither the scores nor the history change.

The other ways a score could change are shut: roster imports never touch scores (they only
deactivate), the set-up admin shows scores read-only to everyone (superusers included) and has
no page for history, the API's score resource is read-only, scores cannot be deleted by a
cascade, and no module of the product but the one service writes Score or ScoreChange rows
(a source scan, so a new write path fails this test until it is routed through the service or
listed here with its reason; it sees direct writes, not a queryset written through a variable).
The triggers that keep history append-only are tested in tests/test_audit_trigger.py.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from assessments.models import Score, ScoreChange
from assessments.services import ScoreEntry, scores_save
from classrooms.admin_scoping import site
from classrooms.models import Classroom, Student, User
from tests import factories
from tests.classrooms.test_oneroster import FIXTURES, edit, export_copy, run
from tests.conftest import World
from units.models import Assessment, ClassroomUnit

pytestmark = pytest.mark.django_db

REPOSITORY = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------------------------
# The change every path makes: four cells of class a1's pre-assessment
# ---------------------------------------------------------------------------------------------


@dataclass
class Change:
    """Class a1's pre-assessment: the world's student (``first``, whose ``scored_code`` skill is
    3 points, version 1) and a classmate (``second``) with nothing entered yet."""

    world: World
    first: Student
    second: Student
    scored_code: str
    other_code: str

    @property
    def teacher(self) -> User:
        return self.world.users["teacher_a1"]

    @property
    def classroom_unit(self) -> ClassroomUnit:
        return self.world.classroom_units["a1"]

    @property
    def assessment(self) -> Assessment:
        return self.classroom_unit.unit.assessments.get(kind="pre")

    def typed(self) -> dict[tuple[int, str], str]:
        """What the teacher types in each cell."""
        return {
            (self.first.pk, self.scored_code): "4",
            (self.first.pk, self.other_code): "A",
            (self.second.pk, self.scored_code): "2.5",
            (self.second.pk, self.other_code): "X",
        }

    def expected_history(self) -> dict[tuple[int, str], tuple[Any, ...]]:
        """(old status, old points, new status, new points, version) per changed cell."""
        return {
            (self.first.pk, self.scored_code): (
                "scored",
                Decimal("3.00"),
                "scored",
                Decimal("4.00"),
                2,
            ),
            (self.first.pk, self.other_code): ("", None, "absent", None, 1),
            (self.second.pk, self.scored_code): ("", None, "scored", Decimal("2.50"), 1),
            (self.second.pk, self.other_code): ("", None, "exempt", None, 1),
        }

    def versions(self) -> dict[tuple[int, str], int]:
        return {
            (score.student_id, score.assessment_skill.skill.code): score.version
            for score in Score.objects.filter(
                classroom_unit=self.classroom_unit,
                assessment_skill__assessment=self.assessment,
            ).select_related("assessment_skill__skill")
        }

    def payload(self) -> dict[str, Any]:
        """The JSON body the grid's script (and any API client) sends."""
        versions = self.versions()
        return {
            "scores": [
                {
                    "student": student,
                    "skill": code,
                    "value": value,
                    "version": versions.get((student, code)),
                }
                for (student, code), value in self.typed().items()
            ]
        }


@pytest.fixture
def change(world: World) -> Change:
    score = world.scores["a1"]
    codes = sorted(
        skill.skill.code
        for skill in world.classroom_units["a1"]
        .unit.assessments.get(kind="pre")
        .assessment_skills.select_related("skill")
    )
    scored_code = score.assessment_skill.skill.code
    second = factories.EnrollmentFactory(
        classroom=world.classrooms["a1"],
        student__district=world.districts["a"],
        student__sis_id="2002",
    ).student
    Student.objects.filter(pk=world.students["a1"].pk).update(sis_id="2001")
    first = Student.objects.get(pk=world.students["a1"].pk)
    [other_code] = [code for code in codes if code != scored_code]
    return Change(world, first, second, scored_code, other_code)


def _unraised(client: Client) -> Client:
    # A server error becomes a 500 response, as a browser would see it, not an exception.
    client.raise_request_exception = False
    return client


def via_grid(change: Change) -> HttpResponse:
    """Open the grid page as the teacher, then post what its script posts, to the URL and with
    the CSRF token the page carries."""
    client = _unraised(Client(enforce_csrf_checks=True))
    client.force_login(change.teacher)
    page = client.get(reverse("score-grid", args=[change.classroom_unit.pk, change.assessment.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    save_url = re.search(r'data-save-url="([^"]+)"', html)
    csrf = re.search(r'data-csrf="([^"]+)"', html)
    assert save_url and csrf, "the grid page no longer says where and how it saves"
    return client.post(  # type: ignore[no-any-return]
        save_url[1],
        json.dumps(change.payload()),
        content_type="application/json",
        headers={"X-CSRFToken": csrf[1], "Accept": "application/json"},
    )


def via_api(change: Change) -> HttpResponse:
    """The bulk save endpoint with the teacher's API token."""
    token, _ = Token.objects.get_or_create(user=change.teacher)
    client = _unraised(APIClient())
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    url = (
        f"/api/classroom-units/{change.classroom_unit.pk}/assessments/"
        f"{change.assessment.pk}/scores/"
    )
    return client.post(url, change.payload(), format="json")  # type: ignore[no-any-return]


def via_csv(change: Change) -> HttpResponse:
    """Upload a CSV of the class, read the preview's token, apply."""
    client = _unraised(Client())
    client.force_login(change.teacher)
    typed = change.typed()
    codes = [change.scored_code, change.other_code]
    lines = [",".join(["sis_id", *codes])]
    for student in (change.first, change.second):
        lines.append(",".join([student.sis_id, *(typed[(student.pk, code)] for code in codes)]))
    url = reverse("score-csv-upload", args=[change.classroom_unit.pk, change.assessment.pk])
    data = ("\n".join(lines) + "\n").encode()
    preview = client.post(url, {"file": SimpleUploadedFile("scores.csv", data, "text/csv")})
    assert preview.status_code == 200
    assert preview.context["preview"].change_count == 4
    token = preview.context["apply_form"]["token"].value()
    return client.post(url, {"token": token})  # type: ignore[no-any-return]


PATHS: dict[str, tuple[Callable[[Change], HttpResponse], int]] = {
    "grid": (via_grid, 200),
    "api": (via_api, 200),
    "csv_upload": (via_csv, 302),
}


def history_since(pk: int) -> list[ScoreChange]:
    return list(ScoreChange.objects.filter(pk__gt=pk).select_related("assessment_skill__skill"))


def score_rows() -> list[tuple[Any, ...]]:
    return sorted(
        Score.objects.values_list(
            "pk", "student_id", "assessment_skill_id", "status", "points", "version"
        )
    )


def last_change_pk() -> int:
    return ScoreChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


# ---------------------------------------------------------------------------------------------
# Each path leaves who, when, old and new for every changed cell
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", list(PATHS))
def test_every_score_change_path_leaves_who_when_old_and_new_per_changed_cell(
    change: Change, path: str
) -> None:
    write, ok_status = PATHS[path]
    since = last_change_pk()
    started = timezone.now()

    response = write(change)

    finished = timezone.now()
    assert response.status_code == ok_status, response.content[:500]
    history = history_since(since)
    assert {
        (row.student_id, row.assessment_skill.skill.code): (
            row.old_status,
            row.old_points,
            row.new_status,
            row.new_points,
            row.version,
        )
        for row in history
    } == change.expected_history()
    assert len(history) == 4
    for row in history:
        assert row.changed_by == change.teacher
        assert started <= row.changed_at <= finished
        score = Score.objects.get(
            classroom_unit=row.classroom_unit,
            student_id=row.student_id,
            assessment_skill=row.assessment_skill,
        )
        # The score and its newest history row agree: same value, same version, same author.
        assert (score.status, score.points, score.version, score.entered_by) == (
            row.new_status,
            row.new_points,
            row.version,
            row.changed_by,
        )


@pytest.mark.parametrize("path", ["grid", "api"])
def test_saving_the_same_values_again_adds_no_history(change: Change, path: str) -> None:
    write, ok_status = PATHS[path]
    assert write(change).status_code == ok_status
    since = last_change_pk()

    again = write(change)

    assert again.status_code == ok_status
    assert history_since(since) == []


def test_clearing_a_score_removes_it_and_keeps_its_history(change: Change) -> None:
    since = last_change_pk()
    versions = change.versions()
    client = _unraised(APIClient())
    client.force_authenticate(change.teacher)
    url = (
        f"/api/classroom-units/{change.classroom_unit.pk}/assessments/"
        f"{change.assessment.pk}/scores/"
    )
    cell = (change.first.pk, change.scored_code)

    response = client.post(
        url,
        {
            "scores": [
                {"student": cell[0], "skill": cell[1], "value": "", "version": versions[cell]}
            ]
        },
        format="json",
    )

    assert response.status_code == 200
    assert cell not in change.versions()
    [row] = history_since(since)
    assert (row.old_status, row.old_points, row.new_status, row.new_points, row.version) == (
        "scored",
        Decimal("3.00"),
        "",
        None,
        2,
    )
    assert row.changed_by == change.teacher


# ---------------------------------------------------------------------------------------------
# Same transaction: a failure after the score write takes the history with it, and back
# ---------------------------------------------------------------------------------------------

_FAIL_FUNCTION = """
CREATE OR REPLACE FUNCTION thinslice_test_injected_failure() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'injected failure (%)', TG_ARGV[0];
END;
$$;
"""
FAILURES = {
    # Fires at COMMIT, after every score and history row of the save was written.
    "at_commit_after_the_score_write": """
        CREATE CONSTRAINT TRIGGER thinslice_test_injected_failure
        AFTER INSERT OR UPDATE OR DELETE ON assessments_score
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION thinslice_test_injected_failure('at commit')
    """,
    # Fires when the history is inserted, after the scores were.
    "while_writing_the_history": """
        CREATE TRIGGER thinslice_test_injected_failure
        BEFORE INSERT ON assessments_scorechange
        FOR EACH ROW EXECUTE FUNCTION thinslice_test_injected_failure('history insert')
    """,
}
_DROP = """
DROP TRIGGER IF EXISTS thinslice_test_injected_failure ON assessments_score;
DROP TRIGGER IF EXISTS thinslice_test_injected_failure ON assessments_scorechange;
DROP FUNCTION IF EXISTS thinslice_test_injected_failure();
"""


@contextmanager
def injected_failure(name: str) -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute(_FAIL_FUNCTION)
        cursor.execute(FAILURES[name])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(_DROP)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("failure", list(FAILURES))
@pytest.mark.parametrize("path", list(PATHS))
def test_a_failure_after_the_score_write_rolls_back_scores_and_history_together(
    change: Change, path: str, failure: str
) -> None:
    write, ok_status = PATHS[path]
    scores_before = score_rows()
    history_before = last_change_pk()

    with injected_failure(failure):
        response = write(change)

    assert response.status_code == 500
    assert score_rows() == scores_before
    assert history_since(history_before) == []
    # Without the failure the same request goes through: the test broke what it meant to.
    assert write(change).status_code == ok_status
    assert len(history_since(history_before)) == 4


# ---------------------------------------------------------------------------------------------
# Imports never write scores
# ---------------------------------------------------------------------------------------------


def test_roster_imports_never_write_or_delete_scores_or_history(tmp_path: Path) -> None:
    district = factories.DistrictFactory(name="Riverside Unified")
    assert run(district, FIXTURES / "valid").applied
    math = Classroom.objects.get(sourced_id="class-math5a")
    ben = Student.objects.get(sourced_id="s-ben")
    teacher = User.objects.get(username="mrivera")
    unit = factories.make_unit(district)
    classroom_unit = factories.ClassroomUnitFactory(
        classroom=math, unit=unit, start_date=math.term.start_date
    )
    result = scores_save(
        actor=teacher,
        classroom_unit=classroom_unit,
        assessment=unit.assessments.get(kind="pre"),
        entries=[ScoreEntry(ben.pk, "A", "3"), ScoreEntry(ben.pk, "B", "4")],
    )
    assert result.is_applied
    scores_before = score_rows()
    history_before = sorted(ScoreChange.objects.values_list("pk", "version"))
    folder = export_copy(tmp_path)
    edit(folder, "users.csv", "s-ben,,", "s-ben,tobedeleted,")

    reimport = run(district, FIXTURES / "valid")
    deactivation = run(district, folder)

    assert reimport.applied and deactivation.applied
    ben.refresh_from_db()
    assert not ben.is_active  # the import did act on the student …
    assert score_rows() == scores_before  # … and left their scores
    assert sorted(ScoreChange.objects.values_list("pk", "version")) == history_before


# ---------------------------------------------------------------------------------------------
# The set-up admin and the API resource are read-only for scores
# ---------------------------------------------------------------------------------------------


def _admin_url(model: type[models.Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("who", ["admin_a", "superuser"])
def test_the_set_up_admin_cannot_add_change_or_delete_scores(world: World, who: str) -> None:
    user = world.users.get(who) or factories.UserFactory(
        username="operator", district=None, is_superuser=True, is_staff=True
    )
    client = Client()
    client.force_login(user)
    score = world.scores["a1"]
    before = score_rows()
    form = {
        "classroom_unit": score.classroom_unit_id,
        "student": score.student_id,
        "assessment_skill": score.assessment_skill_id,
        "status": "scored",
        "points": "0",
        "entered_at_0": "2026-01-01",
        "entered_at_1": "00:00:00",
        "version": "99",
    }

    page = client.get(_admin_url(Score, "change", score.pk))
    responses = {
        "add page": client.get(_admin_url(Score, "add")).status_code,
        "add": client.post(_admin_url(Score, "add"), form).status_code,
        "change": client.post(_admin_url(Score, "change", score.pk), form).status_code,
        "delete page": client.get(_admin_url(Score, "delete", score.pk)).status_code,
        "delete": client.post(_admin_url(Score, "delete", score.pk), {"post": "yes"}).status_code,
    }
    bulk_delete = client.post(
        _admin_url(Score, "changelist"),
        {"action": "delete_selected", "_selected_action": [score.pk], "post": "yes"},
    )

    assert page.status_code == 200  # it can be read …
    assert 'name="points"' not in page.content.decode()  # … with no field to change
    assert responses == dict.fromkeys(responses, 403)
    assert bulk_delete.status_code in (200, 302)
    assert score_rows() == before


def test_score_history_has_no_admin_page_and_no_admin_inline_edits_scores() -> None:
    assert ScoreChange not in site._registry
    for model_admin in site._registry.values():
        for inline in model_admin.inlines:
            assert inline.model not in (Score, ScoreChange), model_admin


def test_nothing_scores_hang_from_can_be_deleted_from_under_them() -> None:
    """Deleting a student, classroom unit or assessment skill with scores or history is refused
    by the database (PROTECT), so no delete in the admin or elsewhere takes scores with it;
    the only pointer that may change is who entered a score, when that account is deleted, and
    an account that changed any score cannot be (history keeps it, PROTECT)."""
    on_delete = {
        (model.__name__, field.name): field.remote_field.on_delete
        for model in (Score, ScoreChange)
        for field in model._meta.concrete_fields
        if field.is_relation
    }

    assert on_delete == {
        ("Score", "classroom_unit"): models.PROTECT,
        ("Score", "student"): models.PROTECT,
        ("Score", "assessment_skill"): models.PROTECT,
        ("Score", "entered_by"): models.SET_NULL,
        ("ScoreChange", "classroom_unit"): models.PROTECT,
        ("ScoreChange", "student"): models.PROTECT,
        ("ScoreChange", "assessment_skill"): models.PROTECT,
        ("ScoreChange", "changed_by"): models.PROTECT,
    }


def test_deleting_a_classroom_unit_with_scores_in_the_admin_is_refused(world: World) -> None:
    client = Client()
    client.force_login(world.users["admin_a"])
    classroom_unit = world.classroom_units["a1"]
    before = score_rows()

    response = client.post(_admin_url(ClassroomUnit, "delete", classroom_unit.pk), {"post": "yes"})

    assert response.status_code in (200, 403)
    assert ClassroomUnit.objects.filter(pk=classroom_unit.pk).exists()
    assert score_rows() == before


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_score_api_resource_is_read_only(world: World, method: str) -> None:
    client = APIClient()
    client.force_authenticate(world.users["teacher_a1"])
    score = world.scores["a1"]
    url = "/api/scores/" if method == "post" else f"/api/scores/{score.pk}/"
    before = score_rows()

    response = getattr(client, method)(url, {"points": "0", "version": 1}, format="json")

    assert response.status_code == 405
    assert score_rows() == before


# ---------------------------------------------------------------------------------------------
# No other code writes scores or their history
# ---------------------------------------------------------------------------------------------

WRITE_METHODS = {
    "create",
    "bulk_create",
    "get_or_create",
    "update_or_create",
    "update",
    "bulk_update",
    "delete",
    "save",
    "raw",
}
SQL_WRITE = re.compile(
    r"\b(insert\s+into|update|delete\s+from|copy|truncate)\s+\"?assessments_score", re.IGNORECASE
)
PRODUCT_PACKAGES = ("assessments", "classrooms", "units", "reports", "config")
# Each module that may write Score or ScoreChange rows, and why that is not a score change
# without history.
ALLOWED_WRITERS = {
    # The one write path: every change with its ScoreChange row, in one transaction.
    "assessments/services.py": "scores_save",
    # Privacy: erasing a student on request and the retention purge delete scores and their
    # history together and record the deletion (counts, actor, time) in the audit log.
    "reports/privacy.py": "student_erase, retention purge",
    # Registers Score on the set-up admin, read-only for everyone (proved above by
    # test_the_set_up_admin_cannot_add_change_or_delete_scores).
    "assessments/admin.py": "ScoreAdmin",
    # Moving a class onto a newer version of its unit re-points its scores at the same skill
    # of the same assessment in the new version: no value, version or author changes, and the
    # history rows stay as entered (under the version they were entered in).
    "assessments/unit_versions.py": "classroom_unit_version_move",
    # seed_demo fills a new demo district with first values (there is no earlier value and no
    # person who entered them); it never changes an existing score.
    "reports/demo/scores.py": "seed_demo",
}


def _writes_in(source: str) -> list[str]:
    """Score or ScoreChange writes in a module: ``Score.objects....<write>()``, ``Score(...)``,
    the model handed to a helper (``_RowSink(Score, ...)``), SQL that writes its tables.

    A tripwire for direct writes, not a proof: a queryset kept in a variable and written
    through later (as reports/privacy.py deletes) is not followed. The entry points users
    reach (grid, API, CSV, admin, imports) are driven for real by the tests above."""
    found = []
    tree = ast.parse(source)
    names = {"Score", "ScoreChange"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            chain = node.func
            attributes = []
            while isinstance(chain, ast.Attribute | ast.Call):
                if isinstance(chain, ast.Attribute):
                    attributes.append(chain.attr)
                    chain = chain.value
                else:
                    chain = chain.func
            root = chain.id if isinstance(chain, ast.Name) else None
            if root in names and (not attributes or WRITE_METHODS & set(attributes)):
                found.append(f"line {node.lineno}: {root}.{'.'.join(reversed(attributes))}")
            for argument in node.args:
                if isinstance(argument, ast.Name) and argument.id in names:
                    found.append(f"line {node.lineno}: {argument.id} passed to a call")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if SQL_WRITE.search(node.value):
                found.append(f"line {node.lineno}: SQL writing assessments_score*")
    return found


def test_no_module_but_the_score_service_and_privacy_writes_scores_or_history() -> None:
    writers: dict[str, list[str]] = {}
    for package in PRODUCT_PACKAGES:
        for path in sorted((REPOSITORY / package).rglob("*.py")):
            relative = path.relative_to(REPOSITORY).as_posix()
            if "/migrations/" in relative:
                continue
            writes = _writes_in(path.read_text(encoding="utf-8"))
            if writes:
                writers[relative] = writes

    assert set(writers) <= set(ALLOWED_WRITERS), {
        module: writes for module, writes in writers.items() if module not in ALLOWED_WRITERS
    }
    # The scan sees the writes it must see (so it is not blind).
    assert "assessments/services.py" in writers


def test_the_source_scan_finds_each_kind_of_write() -> None:
    samples = [
        "Score.objects.filter(pk=1).update(points=0)",
        "Score.objects.all_schools().filter(pk=1).delete()",
        "ScoreChange.objects.bulk_create([])",
        "Score(points=1).save()",
        "_RowSink(Score, ('points',))",
        "cursor.execute('UPDATE assessments_score SET points = 0')",
        "cursor.execute('DELETE FROM assessments_scorechange')",
    ]
    reads = [
        "Score.objects.visible_to(user).filter(pk=1).first()",
        "ScoreChange.objects.filter(pk=1).values_list('pk')",
        "cursor.execute('SELECT * FROM assessments_score')",
        "SkillScore(points=1)",
        "District.objects.update(name='x')",
    ]

    assert all(_writes_in(sample) for sample in samples)
    assert not any(_writes_in(sample) for sample in reads)
