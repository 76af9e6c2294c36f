"""Mass assignment: no request sets a field outside what its action allows.

Every writing endpoint gets the fields of its model that the action does not take (who entered
a score and when, its version and row, the district of a row, an export job's requester, status
and file, audit fields, created_at …), with values that would matter, and the tests assert they
are refused or ignored, never applied. ``test_every_writing_route_has_a_mass_assignment_test``
keeps the list complete: a route that some person may write through (from the authorization
matrix) and that has no test here fails it.

The set-up admin is covered model by model and generically: every field of the model that the
change (or add) form does not show is posted anyway, with a hostile value, and must come out as
it was (or as the action sets it).
"""

from __future__ import annotations

import datetime
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessments.models import Score, ScoreChange
from classrooms import access
from classrooms.admin_scoping import site
from classrooms.models import (
    AcademicYear,
    AuditEvent,
    Classroom,
    District,
    Enrollment,
    School,
    SignInProvider,
    Student,
    StudentGroup,
    User,
)
from reports.models import ExportJob, ExportStatus
from tests.trust import harness
from tests.trust.conftest import TrustWorld
from tests.trust.routes import (
    _csv_token,
    all_probes,
    collect_admin_forms,
    new_unit_body,
    roster_zip,
    unit_body,
)
from units.models import ClassroomUnit, Skill, Unit

pytestmark = pytest.mark.django_db

LONG_AGO = "2001-01-01T00:00:00Z"


def _recent(moment: datetime.datetime | None) -> bool:
    return moment is not None and timezone.now() - moment < datetime.timedelta(minutes=5)


def json_post(client: Client, url: str, body: Any, method: str = "post") -> Any:
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


# =============================================================================================
# API
# =============================================================================================


def test_unit_create_ignores_ids_dates_and_parent_rows_in_the_body(trust: TrustWorld) -> None:
    client = harness.session_client(trust, "a:admin")
    other_unit = trust.obj("b:u")
    body = new_unit_body("Injected unit Q", id=999_999, created_at=LONG_AGO, updated_at=LONG_AGO)
    body["skills"][0].update(unit=other_unit.pk, created_at=LONG_AGO)
    body["assessments"][0].update(unit=other_unit.pk)

    response = json_post(client, reverse("unit-list"), body)

    assert response.status_code == 201, response.content
    unit = Unit.objects.all_schools().get(title="Injected unit Q")
    assert unit.pk != 999_999
    assert unit.district_id == trust.obj("a:district").pk
    assert _recent(unit.created_at) and _recent(unit.updated_at)
    assert set(Skill.objects.all_schools().filter(code="N.1").values_list("unit", flat=True)) == {
        unit.pk
    }
    assert unit.assessments.count() == 3
    assert (
        other_unit.assessments.count()
        == Unit.objects.all_schools().get(pk=other_unit.pk).assessments.count()
    )


def test_unit_create_in_another_district_is_refused(trust: TrustWorld) -> None:
    client = harness.session_client(trust, "a:admin")
    before = harness.fingerprint()

    body = new_unit_body("Injected unit Q", district=trust.obj("b:district").pk)
    response = json_post(client, reverse("unit-list"), body)

    assert response.status_code == 400
    assert harness.fingerprint() == before


def test_unit_change_cannot_move_the_unit_or_rewrite_its_dates(trust: TrustWorld) -> None:
    client = harness.session_client(trust, "a:admin")
    unit = trust.obj("a:u2")
    url = reverse("unit-detail", args=[unit.pk])
    body = {**unit_body(trust, "a:u2", "Renamed Q"), "id": 999_999, "created_at": LONG_AGO}

    response = json_post(client, url, body, method="put")
    moved = json_post(client, url, {**body, "district": trust.obj("b:district").pk}, "put")

    assert response.status_code == 200, response.content
    assert moved.status_code == 400
    saved = Unit.objects.all_schools().get(pk=unit.pk)
    assert saved.title == "Renamed Q"
    assert saved.district_id == trust.obj("a:district").pk
    assert saved.created_at == unit.created_at
    assert not Unit.objects.all_schools().filter(pk=999_999).exists()


def test_starting_a_classroom_unit_ignores_ids_and_dates_in_the_body(trust: TrustWorld) -> None:
    client = harness.session_client(trust, "a:teacher")
    body = {
        "classroom": trust.obj("a:c1").pk,
        "unit": trust.obj("a:u2").pk,
        "start_date": "2027-01-04",
        "id": 999_999,
        "created_at": LONG_AGO,
    }

    response = json_post(client, reverse("classroom-unit-list"), body)

    assert response.status_code == 201, response.content
    started = ClassroomUnit.objects.all_schools().get(pk=response.json()["id"])
    assert started.pk != 999_999
    assert _recent(started.created_at)
    assert (started.classroom_id, started.unit_id) == (trust.obj("a:c1").pk, trust.obj("a:u2").pk)


def _pre_a_score(world: TrustWorld, cu_key: str, student_key: str) -> Score:
    return Score.objects.all_schools().get(
        classroom_unit=world.obj(cu_key),
        student=world.obj(student_key),
        assessment_skill=world.obj(f"{cu_key.split(':')[0]}:u:pre:A"),
    )


def test_bulk_score_save_sets_only_the_value(trust: TrustWorld) -> None:
    client = harness.session_client(trust, "a:teacher")
    score = _pre_a_score(trust, "a:cu1", "a:st1")
    other_cu = trust.obj("a:cu1b")
    row = {
        "student": score.student_id,
        "skill": "A",
        "value": "2",
        "version": score.version,
        # None of these is the caller's to set:
        "entered_by": trust.obj("a:user:admin").pk,
        "entered_at": LONG_AGO,
        "changed_by": trust.obj("a:user:admin").pk,
        "classroom_unit": other_cu.pk,
        "assessment_skill": trust.obj("a:u:post:B").pk,
        "status": "exempt",
        "points": "4",
        "id": _pre_a_score(trust, "a:cu1b", "a:stx").pk,
    }
    body = {"scores": [row], "entered_by": trust.obj("a:user:admin").pk, "actor": "someone"}
    url = reverse("score-bulk-save", args=[trust.obj("a:cu1").pk, trust.obj("a:u:pre").pk])
    other_before = _pre_a_score(trust, "a:cu1b", "a:stx")

    response = json_post(client, url, body)

    assert response.status_code == 200, response.content
    saved = Score.objects.all_schools().get(pk=score.pk)
    assert (saved.status, saved.points) == ("scored", Decimal("2.00"))
    assert saved.entered_by_id == trust.obj("a:user:teacher").pk
    assert _recent(saved.entered_at)
    assert saved.version == score.version + 1
    assert (saved.classroom_unit_id, saved.assessment_skill_id) == (
        score.classroom_unit_id,
        score.assessment_skill_id,
    )
    change = ScoreChange.objects.all_schools().filter(student=score.student).latest("pk")
    assert change.changed_by_id == trust.obj("a:user:teacher").pk
    assert _recent(change.changed_at)
    untouched = _pre_a_score(trust, "a:cu1b", "a:stx")
    assert (untouched.points, untouched.version) == (other_before.points, other_before.version)


def test_a_version_in_the_body_is_only_the_expected_one_never_the_new_one(
    trust: TrustWorld,
) -> None:
    client = harness.session_client(trust, "a:teacher")
    score = _pre_a_score(trust, "a:cu1", "a:st1")
    url = reverse("score-bulk-save", args=[trust.obj("a:cu1").pk, trust.obj("a:u:pre").pk])
    before = harness.fingerprint()

    body = {"scores": [{"student": score.student_id, "skill": "A", "value": "2", "version": 50}]}
    response = json_post(client, url, body)

    assert response.status_code == 409
    assert harness.fingerprint() == before


@pytest.fixture
def jobs_not_streams(settings: Any) -> None:
    """Every export becomes a job (the task is queued after commit, which tests never reach)."""
    settings.THINSLICE_EXPORT_ASYNC_ROWS = 1


JOB_FIELDS = {
    "requested_by": "a:user:admin",
    "district": "b:district",
}
JOB_VALUES = {
    "status": "succeeded",
    "file_name": "../../../etc/passwd",
    "file_size": 123,
    "rows_written": 10_000,
    "estimated_rows": 10_000,
    "attempts": 9,
    "message": "injected",
    "parameters": {"filters": {"school": 1}},
    "created_at": LONG_AGO,
    "started_at": LONG_AGO,
    "finished_at": LONG_AGO,
    "expires_at": "2099-01-01T00:00:00Z",
    "id": 999_999,
    # audit fields
    "actor": "a:user:admin",
    "actor_name": "someone else",
    "outcome": "failed",
    "row_count": 0,
}


def _hostile_export_body(world: TrustWorld) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "scores"}
    body.update({name: world.obj(key).pk for name, key in JOB_FIELDS.items()})
    body.update(JOB_VALUES)
    body["actor"] = world.obj("a:user:admin").pk
    return body


def _assert_a_plain_pending_job(world: TrustWorld, job: ExportJob, *, excel: bool = False) -> None:
    assert job.pk != 999_999
    assert job.requested_by_id == world.obj("a:user:teacher").pk
    assert job.district_id == world.obj("a:district").pk
    assert job.status == ExportStatus.PENDING
    assert (job.file_name, job.file_size, job.rows_written, job.attempts) == ("", 0, 0, 0)
    assert job.message == ""
    assert job.started_at is job.finished_at is job.expires_at is None
    assert _recent(job.created_at)
    assert job.parameters == {
        "filters": {"academic_year": None, "school": None, "subject": "", "unit": None},
        "excel": excel,
        "xlsx": False,
    }


def test_export_api_sets_none_of_the_jobs_fields(trust: TrustWorld, jobs_not_streams: None) -> None:
    client = harness.session_client(trust, "a:teacher")

    response = json_post(client, reverse("export-create"), _hostile_export_body(trust))

    assert response.status_code == 202, response.content
    _assert_a_plain_pending_job(
        trust, ExportJob.objects.all_schools().get(pk=response.json()["id"])
    )


def test_export_page_sets_none_of_the_jobs_fields(
    trust: TrustWorld, jobs_not_streams: None
) -> None:
    client = harness.session_client(trust, "a:teacher")
    body = {
        key: json.dumps(value) if isinstance(value, dict) else value
        for key, value in _hostile_export_body(trust).items()
    }

    response = client.post(reverse("export-page"), body)

    assert response.status_code == 302, response.content
    job = ExportJob.objects.all_schools().latest("pk")
    assert response["Location"] == reverse("export-job", args=[job.pk])
    # The page's CSV is Excel-ready (the byte-order mark) unless plain UTF-8 is chosen.
    _assert_a_plain_pending_job(trust, job, excel=True)


def test_a_streamed_export_is_audited_as_its_requester_whatever_the_body_says(
    trust: TrustWorld,
) -> None:
    client = harness.session_client(trust, "a:teacher")

    response = json_post(client, reverse("export-create"), _hostile_export_body(trust))
    harness.body_of(response)

    assert response.status_code == 200
    event = AuditEvent.objects.all_schools().latest("pk")
    assert event.actor_id == trust.obj("a:user:teacher").pk
    assert event.district_id == trust.obj("a:district").pk
    assert (event.kind, event.outcome) == ("export_scores", "succeeded")
    assert "someone else" not in event.actor_name
    assert _recent(event.created_at)


def test_api_token_is_the_credentials_owners_whatever_the_body_says(trust: TrustWorld) -> None:
    body = {
        "username": "a_teacher",
        "password": "pw-for-tests",
        "user": trust.obj("a:user:admin").pk,
        "key": "chosen-by-the-caller",
    }

    response = json_post(Client(), reverse("api-token"), body)

    assert response.status_code == 200
    assert response.json()["token"] == trust.tokens["a:teacher"]
    assert response.json()["token"] != "chosen-by-the-caller"


# =============================================================================================
# Pages: CSV upload, roster import
# =============================================================================================


def _csv_upload_url(world: TrustWorld) -> str:
    return reverse("score-csv-upload", args=[world.obj("a:cu1").pk, world.obj("a:u:pre").pk])


def test_csv_columns_outside_the_assessment_are_refused_not_written(trust: TrustWorld) -> None:
    client = harness.session_client(trust, "a:teacher")
    sis = trust.obj("a:st1").sis_id
    text = (
        "sis_id,A,entered_by,entered_at,version,classroom_unit\n"
        f"{sis},2,{trust.obj('a:user:admin').pk},2001-01-01,50,{trust.obj('a:cu1b').pk}\n"
    )
    upload = io.BytesIO(text.encode())
    upload.name = "scores.csv"
    before = harness.fingerprint()

    response = client.post(_csv_upload_url(trust), {"file": upload})

    assert response.status_code == 200
    preview = response.context["preview"]
    assert not preview.can_apply
    for column in ("entered_by", "entered_at", "version", "classroom_unit"):
        assert any(f"Unknown column '{column}'" in problem for problem in preview.problems)
    assert response.context["apply_form"] is None
    assert harness.fingerprint() == before


def test_csv_apply_takes_only_the_signed_preview(trust: TrustWorld) -> None:
    """Fields posted beside the token (another text, versions, user) change nothing: only the
    signed preview is applied, as its signer."""
    client = harness.session_client(trust, "a:teacher")
    student = trust.obj("a:st1")
    score = _pre_a_score(trust, "a:cu1", "a:st1")
    token = _csv_token(
        trust.users["a:teacher"],
        trust.thing("a:cu1"),
        trust.thing("a:u:pre"),
        f"sis_id,A\n{student.sis_id},2\n",
        {f"{student.pk}:A": score.version},
    )
    stx = trust.obj("a:stx")
    injected = {
        "token": token,
        "text": f"sis_id,A\n{stx.sis_id},4\n",
        "versions": json.dumps({f"{stx.pk}:A": 1}),
        "user": trust.obj("a:user:admin").pk,
        "entered_by": trust.obj("a:user:admin").pk,
    }

    response = client.post(_csv_upload_url(trust), injected)

    assert response.status_code == 302
    saved = Score.objects.all_schools().get(pk=score.pk)
    assert (saved.points, saved.entered_by_id) == (Decimal("2.00"), trust.obj("a:user:teacher").pk)
    untouched = _pre_a_score(trust, "a:cu1", "a:stx")
    assert untouched.points == Decimal("1.00")


def test_roster_import_is_for_the_admins_own_district_whatever_the_form_says(
    trust: TrustWorld,
) -> None:
    client = harness.session_client(trust, "a:admin")
    upload = io.BytesIO(roster_zip())
    upload.name = "roster.zip"
    body = {
        "file": upload,
        "district": trust.obj("b:district").pk,
        "actor": trust.obj("b:user:admin").pk,
        "dry_run": "false",
    }

    response = client.post(reverse("roster-import"), body)

    assert response.status_code == 200
    event = AuditEvent.objects.all_schools().latest("pk")
    assert event.district_id == trust.obj("a:district").pk
    assert event.actor_id == trust.obj("a:user:admin").pk
    assert event.kind == "roster_import_dry_run"


def test_inviting_reaches_the_admins_own_district_only_whatever_the_form_says(
    trust: TrustWorld, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    """The invitation form names whom (one person, a school, everyone); a district, a school or
    a person of another district in the body invites nobody outside the admin's district."""
    for key in ("a:user:teacher", "b:user:teacher"):  # one person waiting in each district
        waiting = trust.obj(key)
        waiting.email = f"{waiting.username}@example.org"
        waiting.set_unusable_password()
        waiting.save()
    client = harness.session_client(trust, "a:admin")
    district_b = trust.obj("b:district")
    body = {
        "whom": "everyone",
        "district": district_b.pk,
        "district_id": district_b.pk,
        "actor": trust.obj("b:user:admin").pk,
    }

    with django_capture_on_commit_callbacks(execute=True):  # the emails go after the commit
        response = client.post(reverse("invitation-send"), body)

    assert response.status_code == 302
    invited = {address for message in mailoutbox for address in message.to}
    assert trust.obj("a:user:teacher").email in invited
    assert trust.obj("b:user:teacher").email not in invited
    district_of = {
        user.email.lower(): user.district_id
        for user in User.objects.all_schools().filter(email__isnull=False).exclude(email="")
    }
    assert all(
        district_of.get(address.lower()) == trust.obj("a:district").pk for address in invited
    )


def test_forgot_password_changes_no_account_whatever_the_form_says(
    trust: TrustWorld, mailoutbox: list[Any]
) -> None:
    """ "Forgot password" takes an address and nothing else: fields of an account in the body
    change no account, and only the account with that address is written to."""
    teacher = trust.obj("a:user:teacher")
    teacher.email = "teacher-a@example.org"
    teacher.save(update_fields=["email"])
    before = list(User.objects.all_schools().order_by("pk").values())
    body = {
        "email": teacher.email,
        "username": "taken-over",
        "is_superuser": "on",
        "is_district_admin": "on",
        "district": trust.obj("b:district").pk,
    }

    response = Client().post(reverse("password-reset"), body)

    assert response.status_code == 302
    assert list(User.objects.all_schools().order_by("pk").values()) == before
    assert [message.to for message in mailoutbox] == [[teacher.email]]


def test_erasing_a_student_erases_that_student_only_whatever_the_form_says(
    trust: TrustWorld,
) -> None:
    """The erase form takes the typed SIS id and nothing else: ids of other students, another
    district or another actor in the body change nothing about what is deleted or recorded."""
    client = harness.session_client(trust, "a:admin")
    erased, kept = trust.obj("a:stu"), trust.obj("a:st1")
    body = {
        "sis_id": erased.sis_id,
        "student": kept.pk,
        "pk": kept.pk,
        "student_id": trust.obj("b:st1").pk,
        "district": trust.obj("b:district").pk,
        "actor": trust.obj("b:user:admin").pk,
    }

    response = client.post(reverse("student-erase", args=[erased.pk]), body)

    assert response.status_code == 302
    remaining = set(Student.objects.all_schools().values_list("pk", flat=True))
    assert erased.pk not in remaining
    assert {kept.pk, trust.obj("b:st1").pk} <= remaining
    event = AuditEvent.objects.all_schools().latest("pk")
    assert (event.kind, event.district_id, event.actor_id) == (
        "student_erasure",
        trust.obj("a:district").pk,
        trust.obj("a:user:admin").pk,
    )


# =============================================================================================
# The set-up admin: every field the form does not show, posted anyway
# =============================================================================================

# The row of district "a" whose change form is posted for each model on the set-up admin.
ADMIN_ROWS: dict[type[models.Model], str] = {
    District: "a:district",
    School: "a:s1",
    AcademicYear: "a:year",
    Classroom: "a:c1",
    StudentGroup: "a:group",
    Student: "a:st1",
    Enrollment: "a:enrollment:c1:st1",
    User: "a:user:teacher",
    Unit: "a:u2",
    ClassroomUnit: "a:cu1",
    SignInProvider: "a:signin",
}
# Add forms: values that make a copy of the row above new (unique names, another unit).
ADD_CHANGES: dict[type[models.Model], dict[str, Any]] = {
    School: {"name": "New school Q", "code": "NEW"},
    AcademicYear: {"name": "2031-32"},
    Classroom: {"name": "New class Q"},
    StudentGroup: {"name": "New group Q"},
    Student: {"sis_id": "SIS-NEW-Q", "family_name": "New"},
    Enrollment: {"start_date": "2026-10-01"},
    Unit: {"title": "New unit Q"},
    ClassroomUnit: {"unit": "a:u2"},
    SignInProvider: {"label": "New ID Q", "client_id": "client-new-q", "secret": "secret-new-q"},
    User: {
        "username": "new_staff",
        "password1": "a-new-Passw0rd-9",
        "password2": "a-new-Passw0rd-9",
        "usable_password": "true",
    },
}


def _hostile(world: TrustWorld, field: models.Field) -> Any:
    """A value for ``field`` that would matter if it were applied."""
    if field.many_to_many:
        others = [t.pk for t in world.of_model(field.related_model) if t.district == "b"]
        return [str(pk) for pk in others[:1]] or ["999999"]
    if field.is_relation:
        others = [t.pk for t in world.of_model(field.related_model) if t.district == "b"]
        return str(others[0]) if others else "999999"
    if isinstance(field, models.BooleanField):
        return "on"
    if isinstance(field, models.DateTimeField):
        return "2001-01-01 00:00:00"
    if isinstance(field, models.DateField):
        return "2001-01-01"
    if isinstance(field, models.JSONField):
        return '{"injected": true}'
    if isinstance(field, models.IntegerField | models.DecimalField | models.FloatField):
        return "7"
    return "injected"


def _model_fields(model: type[models.Model]) -> list[models.Field]:
    return [
        field
        for field in model._meta.get_fields()
        if (field.concrete or field.many_to_many) and not field.auto_created
    ]


def _values(row: models.Model, fields: list[models.Field]) -> dict[str, Any]:
    values = {}
    for field in fields:
        if field.many_to_many:
            values[field.name] = sorted(getattr(row, field.name).values_list("pk", flat=True))
        else:
            values[field.name] = getattr(row, field.attname)
    return values


def _admin_url(model: type[models.Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _form_field_names(response: Any) -> set[str]:
    form = response.context["adminform"].form
    return {name for name, field in form.fields.items() if not field.disabled}


def _auto_now(field: models.Field) -> bool:
    return bool(getattr(field, "auto_now", False))


@pytest.mark.parametrize("model", list(ADMIN_ROWS), ids=lambda model: model.__name__)
def test_admin_change_form_applies_no_field_it_does_not_show(
    trust: TrustWorld, model: type[models.Model]
) -> None:
    client = harness.session_client(trust, "a:admin")
    thing = trust.thing(ADMIN_ROWS[model])
    url = _admin_url(model, "change", thing.pk)
    page = client.get(url)
    shown = _form_field_names(page)
    hidden = [field for field in _model_fields(model) if field.name not in shown]
    assert hidden, "every model keeps some field off its form"
    data = harness.admin_form_data(page)
    for field in hidden:
        data[field.name] = _hostile(trust, field)
        if field.attname != field.name:
            data[field.attname] = _hostile(trust, field)
    before = _values(model._base_manager.get(pk=thing.pk), hidden)

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    after = _values(model._base_manager.get(pk=thing.pk), hidden)
    for field in hidden:
        if _auto_now(field):  # set to now by every save
            assert after[field.name].year != 2001
            continue
        assert after[field.name] == before[field.name], field.name


def _add_data(world: TrustWorld, client: Client, model: type[models.Model]) -> dict[str, Any]:
    """An add form filled from the change form of the model's row, made new."""
    change_page = client.get(_admin_url(model, "change", world.thing(ADMIN_ROWS[model]).pk))
    add_page = client.get(_admin_url(model, "add"))
    existing = harness.admin_form_data(change_page)
    data = harness.admin_form_data(add_page)
    for name in _form_field_names(add_page):
        if name in existing:
            data[name] = existing[name]
    # Inline rows (a unit's plan, a year's terms, a class's enrollments) become new rows of the
    # new one: no id, no parent yet.
    parent_field = {Unit: "unit", AcademicYear: "academic_year", Classroom: "classroom"}.get(model)
    for key, value in existing.items():
        if "-" not in key:
            continue
        if key.endswith("-INITIAL_FORMS"):
            data[key] = "0"
        elif key.endswith("-id") or (parent_field and key.endswith(f"-{parent_field}")):
            data[key] = ""
        else:
            data[key] = value
    for name, value in ADD_CHANGES[model].items():
        data[name] = str(world.thing(value).pk) if str(value).startswith("a:") else value
    return data


@pytest.mark.parametrize("model", list(ADD_CHANGES), ids=lambda model: model.__name__)
def test_admin_add_form_applies_no_field_it_does_not_show(
    trust: TrustWorld, model: type[models.Model]
) -> None:
    client = harness.session_client(trust, "a:admin")
    data = _add_data(trust, client, model)
    shown = _form_field_names(client.get(_admin_url(model, "add")))
    hidden = [field for field in _model_fields(model) if field.name not in shown]
    for field in hidden:
        data[field.name] = _hostile(trust, field)
    existing = set(model._base_manager.values_list("pk", flat=True))

    response = client.post(_admin_url(model, "add"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    created = model._base_manager.exclude(pk__in=existing).get()
    values = _values(created, hidden)
    for field in hidden:
        value = values[field.name]
        if field.name == "district":
            assert value == trust.obj("a:district").pk
        elif field.many_to_many:
            assert value == [], field.name
        elif field.is_relation:
            assert value is None or _district_of(trust, field, value) == "a", field.name
        elif isinstance(field, models.DateTimeField):
            assert value is None or value.year != 2001, field.name
        elif isinstance(field, models.BooleanField):
            assert value == field.get_default(), field.name
        else:
            assert value != _hostile(trust, field) or value == field.get_default(), field.name


def _district_of(trust: TrustWorld, field: Any, value: Any) -> str:
    """The world district of a related row; a row the save itself made (a new unit's lineage)
    is judged by the district it belongs to."""
    related = field.related_model._base_manager.get(pk=value)
    try:
        return trust.thing_of(related).district
    except KeyError:
        district_id = access.target_district_id(related)
        return "a" if district_id == trust.obj("a:district").pk else "other"


def _inlines_with_roster_ids() -> list[Any]:
    """(model, inline model) of every admin page that shows rows of a model with roster ids."""
    found = []
    for model, model_admin in site._registry.items():
        for inline in model_admin.inlines:
            fields = {field.name for field in inline.model._meta.concrete_fields}
            if "sourced_id" in fields:
                found.append(pytest.param(model, inline.model, id=inline.model.__name__))
    return found


@pytest.mark.parametrize(("model", "inline_model"), _inlines_with_roster_ids())
def test_rows_shown_inside_another_admin_page_cannot_set_roster_ids(
    trust: TrustWorld, model: type[models.Model], inline_model: type[models.Model]
) -> None:
    """Roster ids are the student information system's (only an import sets them): an
    enrollment inside a class's page or a term inside a year's is no way around that."""
    client = harness.session_client(trust, "a:admin")
    url = _admin_url(model, "change", trust.thing(ADMIN_ROWS[model]).pk)
    data = harness.admin_form_data(client.get(url))
    row_fields = [key for key in data if key.endswith("-id") and data[key]]
    assert row_fields, "the page shows rows of the inline"
    for key in row_fields:
        data[key.removesuffix("-id") + "-sourced_id"] = "taken-over-Q"
    before = sorted(inline_model._base_manager.values_list("pk", "sourced_id"))

    response = client.post(url, data)

    assert response.status_code == 302
    assert sorted(inline_model._base_manager.values_list("pk", "sourced_id")) == before


def test_district_admin_cannot_make_anyone_a_superuser_or_move_them(trust: TrustWorld) -> None:
    client = harness.session_client(trust, "a:admin")
    teacher = trust.obj("a:user:teacher")
    url = _admin_url(User, "change", teacher.pk)
    data = harness.admin_form_data(client.get(url))
    data.update(
        is_superuser="on",
        district=trust.obj("b:district").pk,
        groups=["1"],
        user_permissions=["1", "2"],
    )

    response = client.post(url, data)

    assert response.status_code == 302
    saved = User.objects.all_schools().get(pk=teacher.pk)
    assert not saved.is_superuser
    assert saved.district_id == trust.obj("a:district").pk
    assert not saved.groups.exists() and not saved.user_permissions.exists()


def test_scores_cannot_be_changed_in_the_set_up_admin(trust: TrustWorld) -> None:
    client = harness.session_client(trust, "a:admin")
    score = trust.obj("a:score:cu1:st1:pre")
    before = harness.fingerprint()

    response = client.post(
        _admin_url(Score, "change", score.pk),
        {"points": "0", "status": "exempt", "entered_by": trust.obj("a:user:admin").pk},
    )

    assert response.status_code == 403
    assert harness.fingerprint() == before


def test_the_admins_change_log_names_the_admin_whatever_the_form_says(
    trust: TrustWorld,
) -> None:
    client = harness.session_client(trust, "a:admin")
    school = trust.obj("a:s1")
    url = _admin_url(School, "change", school.pk)
    data = harness.admin_form_data(client.get(url))
    data.update(
        user=trust.obj("b:user:admin").pk,
        action_time="2001-01-01 00:00:00",
        name="Renamed school Q",
    )

    client.post(url, data)

    entry = LogEntry.objects.latest("pk")
    assert entry.user_id == trust.obj("a:user:admin").pk
    assert _recent(entry.action_time)


def test_rollback_is_of_the_import_in_the_address(
    trust: TrustWorld,
) -> None:
    own, other = trust.obj("a:roster_import"), trust.obj("b:roster_import")
    client = harness.session_client(trust, "a:admin")

    response = client.post(
        reverse("roster-import-detail", args=[own.pk]),
        {"pk": other.pk, "roster_import": other.pk, "district": other.district_id},
    )

    assert response.status_code == 200
    own.refresh_from_db()
    other.refresh_from_db()
    assert own.rolled_back_at is not None
    assert other.rolled_back_at is None


# =============================================================================================
# Completeness
# =============================================================================================

# Each writing route and the tests above that send it fields outside its action.
COVERED_WRITING_ROUTES = {
    "unit-list": "test_unit_create_*",
    "unit-detail": "test_unit_change_cannot_move_the_unit_or_rewrite_its_dates",
    "classroom-unit-list": "test_starting_a_classroom_unit_ignores_ids_and_dates_in_the_body",
    "score-bulk-save": "test_bulk_score_save_sets_only_the_value, test_a_version_in_the_body_*",
    "export-create": "test_export_api_sets_none_of_the_jobs_fields, test_a_streamed_export_*",
    "export-page": "test_export_page_sets_none_of_the_jobs_fields",
    "api-token": "test_api_token_is_the_credentials_owners_whatever_the_body_says",
    "score-csv-upload": "test_csv_columns_outside_the_assessment_*, test_csv_apply_*",
    "roster-import": "test_roster_import_is_for_the_admins_own_district_whatever_the_form_says",
    "roster-import-detail": "test_rollback_is_of_the_import_in_the_address",
    "student-erase": "test_erasing_a_student_erases_that_student_only_whatever_the_form_says",
    "invitation-send": "test_inviting_reaches_the_admins_own_district_only_whatever_the_form_says",
    "password-reset": "test_forgot_password_changes_no_account_whatever_the_form_says",
    # Signing out and the admin's delete confirmation take no fields at all; the admin's
    # password form takes only the two password fields (Django's SetPasswordForm).
    # The planner's pages and API (units/views.py, units/api/views.py) read only the fields
    # their forms and serializers name; who wrote a unit, its lineage, version and district
    # come from the signed-in person and the service (tests/units/test_planner_pages.py and
    # test_planner_api.py check the author, version and district of what is saved).
    **{
        route: "fields named by the planner's forms and serializers only"
        for route in (
            "units:new",
            "units:edit",
            "units:burden",
            "units:rollover",
            "units:start",
            "units:copy",
            "units:share",
            "units:reflect",
            "classroom-unit-move",
            "unit-rollover",
            "unit-copy",
            "unit-share",
            "unit-start",
            "classroom-unit-reflection",
            "classroom-unit-move-api",
        )
    },
    "logout": "no fields",
    "admin:logout": "no fields",
    "admin:auth_user_password_change": "only password1 and password2",
    **{
        f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}": (
            "test_admin_change_form_*, test_admin_add_form_*, test_the_admins_change_log_*"
        )
        for model in site._registry
        for view in ("change", "add", "delete")
    },
}


def test_every_writing_route_has_a_mass_assignment_test(
    trust: TrustWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    writing = {
        probe.route
        for probe in all_probes(trust, collect_admin_forms(trust))
        if probe.method != "get" and any(probe.allowed(user_key) for user_key in trust.users)
    }
    untested = writing - set(COVERED_WRITING_ROUTES)
    with capsys.disabled():
        print(f"\nmass assignment: {len(writing)} writing routes, {len(untested)} without a test")

    assert untested == set()
    assert set(ADMIN_ROWS) == set(site._registry) - {Score}
