"""Role changes take effect at once: the very next request after a district admin removes a
teacher from a classroom, a coach from a school, demotes an admin or deactivates an account is
refused, whether the person signs in with a session or an API token.

Each test makes a request that works, changes the role the way a district admin does it (the
set-up admin's change form), and sends the same request again from the same client: nothing is
cached in the session, the token or the process.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import models
from django.http import HttpResponseBase
from django.test import Client
from django.urls import reverse

from assessments.models import Score
from classrooms.models import Classroom, School, User
from tests.trust import harness
from tests.trust.conftest import TrustWorld

pytestmark = pytest.mark.django_db


def admin_change(world: TrustWorld, district: str, thing_key: str, **changes: Any) -> None:
    """Change a row through the set-up admin as the district's admin, as a person would."""
    thing = world.thing(thing_key)
    model = type(thing.obj)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[thing.pk])
    client = harness.session_client(world, f"{district}:admin")
    data = harness.admin_form_data(client.get(url))
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    response = client.post(url, data)
    assert response.status_code == 302, (
        getattr(response, "context", {}) and response.context["adminform"].form.errors
    )


@dataclass(frozen=True)
class Request:
    """One request a person makes, and how to tell that it got through."""

    name: str
    send: Callable[[Client, TrustWorld], HttpResponseBase]
    pages: bool = False  # a page: sessions only (pages do not take API tokens)

    def works(self, client: Client, world: TrustWorld) -> bool:
        return harness.reached(self.send(client, world))


def _get(url: Callable[[TrustWorld], str]) -> Callable[[Client, TrustWorld], HttpResponseBase]:
    return lambda client, world: client.get(url(world))


def _bulk_save(cu_key: str, student_key: str) -> Callable[[Client, TrustWorld], HttpResponseBase]:
    """Save 2 points for a student's pre-assessment skill A, based on the current version."""

    def send(client: Client, world: TrustWorld) -> HttpResponseBase:
        cu = world.obj(cu_key)
        student = world.obj(student_key)
        pre = world.obj(f"{cu_key.split(':')[0]}:u:pre")
        current = (
            Score.objects.all_schools()
            .filter(
                classroom_unit=cu,
                student=student,
                assessment_skill__assessment=pre,
                assessment_skill__skill__code="A",
            )
            .first()
        )
        body = {
            "scores": [
                {
                    "student": student.pk,
                    "skill": "A",
                    "value": "2" if current is None or current.points != 2 else "3",
                    "version": current.version if current else None,
                }
            ]
        }
        return client.post(
            reverse("score-bulk-save", args=[cu.pk, pre.pk]),
            json.dumps(body),
            content_type="application/json",
        )

    return send


def _in_list(route: str, thing_key: str) -> Callable[[Client, TrustWorld], HttpResponseBase]:
    """A list request that 'works' when it lists the row (otherwise a 404 stand-in)."""

    def send(client: Client, world: TrustWorld) -> HttpResponseBase:
        response = client.get(reverse(route))
        if response.status_code != 200:
            return response
        ids = harness.json_ids(response.json())
        response.status_code = 200 if world.thing(thing_key).pk in ids else 404
        return response

    return send


def _url(name: str, *keys: str) -> Callable[[TrustWorld], str]:
    return lambda world: reverse(name, args=[world.thing(key).pk for key in keys])


TEACHER_REQUESTS = [
    Request("score grid", _get(_url("score-grid", "a:cu1", "a:u:pre")), pages=True),
    Request("roster page", _get(_url("classroom-roster", "a:c1")), pages=True),
    Request("CSV template", _get(_url("score-csv-template", "a:cu1", "a:u:pre")), pages=True),
    Request("growth page", _get(_url("reports:classroom-unit", "a:cu1")), pages=True),
    Request("API classroom", _get(_url("classroom-detail", "a:c1"))),
    Request("API student", _get(_url("student-detail", "a:st1"))),
    Request("API score list", _in_list("score-list", "a:score:cu1:st1:pre")),
    Request("API bulk save", _bulk_save("a:cu1", "a:st1")),
]

COACH_REQUESTS = [
    Request("school report", _get(_url("reports:school", "a:s1")), pages=True),
    Request("score grid", _get(_url("score-grid", "a:cu1", "a:u:pre")), pages=True),
    Request("roster page", _get(_url("classroom-roster", "a:c1")), pages=True),
    Request("API school", _get(_url("school-detail", "a:s1"))),
    Request("API enrollment", _get(_url("enrollment-detail", "a:enrollment:c1:st1"))),
    Request("API student list", _in_list("student-list", "a:st1")),
]


def _client(world: TrustWorld, user_key: str, auth: str) -> Client:
    if auth == "session":
        return harness.session_client(world, user_key)
    return harness.token_client(world, user_key)


def _params(requests: list[Request]) -> list[Any]:
    return [
        pytest.param(request, auth, id=f"{request.name}-{auth}")
        for request in requests
        for auth in ("session", "token")
        if auth == "session" or not request.pages
    ]


def _ids(world: TrustWorld, keys: list[str]) -> list[str]:
    return [str(world.thing(key).pk) for key in keys]


@pytest.mark.parametrize(("request_", "auth"), _params(TEACHER_REQUESTS))
def test_teacher_removed_from_a_classroom_is_refused_on_the_next_request(
    trust: TrustWorld, request_: Request, auth: str
) -> None:
    client = _client(trust, "a:teacher", auth)
    assert request_.works(client, trust)

    # The district admin takes the teacher off c1 (the deactivated account stays on it).
    admin_change(trust, "a", "a:c1", teachers=_ids(trust, ["a:user:inactive"]))

    before = harness.fingerprint()
    assert not request_.works(client, trust)
    assert harness.fingerprint() == before


@pytest.mark.parametrize(("request_", "auth"), _params(COACH_REQUESTS))
def test_coach_removed_from_a_school_is_refused_on_the_next_request(
    trust: TrustWorld, request_: Request, auth: str
) -> None:
    client = _client(trust, "a:coach", auth)
    assert request_.works(client, trust)

    admin_change(trust, "a", "a:s1", coaches=_ids(trust, ["a:user:inactive"]))

    assert not request_.works(client, trust)


def test_removing_one_teacher_leaves_the_other_classrooms_teacher_alone(
    trust: TrustWorld,
) -> None:
    peer = harness.session_client(trust, "a:peer")

    admin_change(trust, "a", "a:c1", teachers=_ids(trust, ["a:user:inactive"]))

    assert (
        peer.get(reverse("score-grid", args=_ids(trust, ["a:cu1b", "a:u:pre"]))).status_code == 200
    )


ADMIN_REQUESTS = [
    Request("set-up admin", _get(lambda world: reverse("admin:index")), pages=True),
    Request("roster import", _get(lambda world: reverse("roster-import")), pages=True),
    Request("audit log", _get(lambda world: reverse("audit-event-list")), pages=True),
    Request("API unenrolled student", _get(_url("student-detail", "a:stu"))),
    Request("API staff list", _in_list("user-list", "a:user:coach")),
]


@pytest.mark.parametrize(("request_", "auth"), _params(ADMIN_REQUESTS))
def test_demoted_district_admin_is_refused_on_the_next_request(
    trust: TrustWorld, request_: Request, auth: str
) -> None:
    # A second admin, so that the first can demote them.
    second = User.objects.get(pk=trust.obj("a:user:norole").pk)
    second.is_district_admin = True
    second.save(update_fields=["is_district_admin"])
    client = _client(trust, "a:norole", auth)
    assert request_.works(client, trust)

    admin_change(trust, "a", "a:user:norole", is_district_admin=None)

    assert not request_.works(client, trust)


@pytest.mark.parametrize(("request_", "auth"), _params(TEACHER_REQUESTS))
def test_deactivated_teacher_is_refused_on_the_next_request(
    trust: TrustWorld, request_: Request, auth: str
) -> None:
    client = _client(trust, "a:teacher", auth)
    assert request_.works(client, trust)

    admin_change(trust, "a", "a:user:teacher", is_active=None)

    response = request_.send(client, trust)
    assert not harness.reached(response)
    # Signed out altogether: the sign-in page for pages, 401 for the API.
    assert harness.is_sign_in_redirect(response) or response.status_code == 401


def test_a_role_given_back_works_at_once_too(trust: TrustWorld) -> None:
    client = harness.token_client(trust, "a:teacher")
    url = reverse("classroom-detail", args=[trust.thing("a:c1").pk])
    admin_change(trust, "a", "a:c1", teachers=_ids(trust, ["a:user:inactive"]))
    assert client.get(url).status_code == 404

    admin_change(trust, "a", "a:c1", teachers=_ids(trust, ["a:user:inactive", "a:user:teacher"]))

    assert client.get(url).status_code == 200


def test_the_admin_change_really_changed_the_assignment(trust: TrustWorld) -> None:
    admin_change(trust, "a", "a:c1", teachers=_ids(trust, ["a:user:inactive"]))
    admin_change(trust, "a", "a:s1", coaches=_ids(trust, ["a:user:inactive"]))

    classroom: models.Model = Classroom.objects.all_schools().get(pk=trust.thing("a:c1").pk)
    school: models.Model = School.objects.all_schools().get(pk=trust.thing("a:s1").pk)
    assert list(classroom.teachers.values_list("username", flat=True)) == ["a_inactive"]  # type: ignore[attr-defined]
    assert list(school.coaches.values_list("username", flat=True)) == ["a_inactive"]  # type: ignore[attr-defined]
