"""The audit log: rows are only ever added, and only a district's admins read its rows."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from classrooms.admin_scoping import site
from classrooms.audit import audit_event_record
from classrooms.models import AuditEvent
from tests import factories
from tests.conftest import World


def _record(world: World, district_key: str, **extra: Any) -> AuditEvent:
    options: dict[str, Any] = {
        "kind": "roster_import",
        "parameters": {"source": f"export-{district_key}.zip", "dry_run": False},
        "row_count": 12,
        "succeeded": True,
        "message": "The import did create 12 rows.",
        **extra,
    }
    return audit_event_record(
        district=world.districts[district_key],
        actor=world.users[f"admin_{district_key}"],
        **options,
    )


def test_record_keeps_who_what_how_many_and_the_outcome(world: World) -> None:
    admin = world.users["admin_a"]
    admin.first_name, admin.last_name = "Dana", "Lee"

    event = _record(world, "a", succeeded=False)

    event.refresh_from_db()
    assert event.actor == admin
    assert event.actor_name == "Dana Lee (admin_a)"
    assert event.parameters == {"source": "export-a.zip", "dry_run": False}
    assert (event.row_count, event.outcome) == (12, "failed")
    assert event.created_at is not None


def test_server_command_is_recorded_as_the_server_operator(world: World) -> None:
    event = audit_event_record(
        district=world.districts["a"],
        actor=None,
        kind="roster_import",
        parameters={},
        row_count=0,
        succeeded=True,
    )

    assert event.actor_name == "server operator (manage.py)"


def test_audit_rows_cannot_be_changed_or_deleted(world: World) -> None:
    event = _record(world, "a")

    event.outcome = "failed"
    with pytest.raises(TypeError, match="never changed"):
        event.save()
    with pytest.raises(TypeError, match="never deleted"):
        event.delete()
    with pytest.raises(TypeError, match="never changed"):
        AuditEvent.objects.filter(pk=event.pk).update(outcome="failed")
    with pytest.raises(TypeError, match="never deleted"):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).outcome == "succeeded"


def test_audit_events_are_not_on_the_set_up_admin() -> None:
    assert AuditEvent not in site._registry


def _client(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("user_key", "status"),
    [
        ("anonymous", 302),
        ("teacher_a1", 403),
        ("coach_a1", 403),
        ("no_role_a", 403),
        ("admin_b", 200),
        ("admin_a", 200),
    ],
)
def test_audit_page_lists_only_the_admins_own_district(
    world: World, user_key: str, status: int
) -> None:
    event_a = _record(world, "a")
    event_b = _record(world, "b")

    page = _client(world.users.get(user_key)).get(reverse("audit-event-list"))

    assert page.status_code == status
    if status != 200:
        assert "export-a.zip" not in page.content.decode()
        return
    listed = {event.pk for event in page.context["audit_events"]}
    own, other = (event_a, event_b) if user_key == "admin_a" else (event_b, event_a)
    assert listed == {own.pk}
    content = page.content.decode()
    assert f"export-{user_key[-1]}.zip" in content
    assert "The import did create 12 rows." in content
    assert other.parameters["source"] not in content


def test_platform_operator_sees_every_district(world: World) -> None:
    operator = factories.UserFactory(username="operator", district=None, is_superuser=True)
    events = {_record(world, "a").pk, _record(world, "b").pk}

    page = _client(operator).get(reverse("audit-event-list"))

    assert {event.pk for event in page.context["audit_events"]} == events


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_audit_page_is_read_only(world: World, method: str) -> None:
    event = _record(world, "a")

    response = getattr(_client(world.users["admin_a"]), method)(reverse("audit-event-list"))

    assert response.status_code == 405
    assert AuditEvent.objects.filter(pk=event.pk, outcome="succeeded").exists()
