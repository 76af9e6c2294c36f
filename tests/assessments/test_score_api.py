"""The bulk score API: one request saves a class's scores for one assessment, all or nothing."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from assessments.models import Score, ScoreChange
from tests import factories
from tests.conftest import StatementCapture

pytestmark = pytest.mark.django_db


def _url(classroom_unit, assessment) -> str:
    return f"/api/classroom-units/{classroom_unit.pk}/assessments/{assessment.pk}/scores/"


def _pre(world, key="a1"):
    classroom_unit = world.classroom_units[key]
    return classroom_unit, classroom_unit.unit.assessments.get(kind="pre")


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_teacher_saves_scores_with_a_token_and_gets_new_versions(world):
    classroom_unit, pre = _pre(world)
    student = world.students["a1"]
    response = _client(world.users["teacher_a1"]).post(
        _url(classroom_unit, pre),
        {
            "scores": [
                {"student": student.pk, "skill": "A", "value": "4", "version": 1},
                {"student": student.pk, "skill": "B", "value": "A"},
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["applied"] is True
    assert {(c["skill"], c["value"], c["version"]) for c in body["saved"]} == {
        ("A", "4", 2),
        ("B", "A", 1),
    }


@pytest.mark.parametrize(
    ("who", "expected_status"),
    [(None, 401), ("coach_a1", 403), ("teacher_a2", 404), ("teacher_b1", 404), ("admin_b", 404)],
)
def test_only_the_classrooms_teachers_can_save(world, who, expected_status):
    classroom_unit, pre = _pre(world)
    before = list(Score.objects.values_list("pk", "points", "version"))
    user = world.users[who] if who else None
    response = _client(user).post(
        _url(classroom_unit, pre),
        {
            "scores": [
                {"student": world.students["a1"].pk, "skill": "A", "value": "1", "version": 1}
            ]
        },
        format="json",
    )
    assert response.status_code == expected_status
    assert list(Score.objects.values_list("pk", "points", "version")) == before


def test_conflict_is_409_with_current_value_and_author(world):
    classroom_unit, pre = _pre(world)
    teacher = world.users["teacher_a1"]
    payload = {"scores": [{"student": world.students["a1"].pk, "skill": "A", "value": "2"}]}
    response = _client(teacher).post(_url(classroom_unit, pre), payload, format="json")
    assert response.status_code == 409
    (problem,) = response.json()["problems"]
    assert problem["is_conflict"] is True
    assert problem["current"] == "3"
    assert problem["current_version"] == 1
    assert problem["current_by"] == str(teacher)


def test_a_bad_row_is_400_and_nothing_is_saved(world):
    classroom_unit, pre = _pre(world)
    student = world.students["a1"]
    response = _client(world.users["teacher_a1"]).post(
        _url(classroom_unit, pre),
        {
            "scores": [
                {"student": student.pk, "skill": "A", "value": "1", "version": 1},
                {"student": student.pk, "skill": "B", "value": "99"},
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    assert [p["message"] for p in response.json()["problems"]] == ["99 is outside 0 to 6 points."]
    assert Score.objects.get(student=student).points == 3


def test_malformed_body_is_a_clear_400(world):
    classroom_unit, pre = _pre(world)
    response = _client(world.users["teacher_a1"]).post(
        _url(classroom_unit, pre), {"scores": [{"skill": "A"}]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["scores"] == {
        "0": {"student": ["This field is required."], "value": ["This field is required."]}
    }


def _statements_of_request(
    statements_as_in_production: StatementCapture, size: int, *, first_entry: bool
) -> int:
    teacher, classroom_unit, pre, students = factories.make_taught_class(size)
    client = _client(teacher)
    payload = _payload(students, "1")
    if not first_entry:
        assert client.post(_url(classroom_unit, pre), payload, format="json").status_code == 200
        payload = {"scores": [{**cell, "value": "2", "version": 1} for cell in payload["scores"]]}
    with statements_as_in_production() as statements:
        response = client.post(_url(classroom_unit, pre), payload, format="json")
    assert response.status_code == 200, response.json()
    return len(statements)


@pytest.mark.parametrize("first_entry", [True, False], ids=["new cells", "changed cells"])
@pytest.mark.parametrize("size", [30, 150])
def test_saving_a_class_over_http_takes_nine_statements_whatever_its_size(
    statements_as_in_production, size, first_entry
):
    """The token, the classroom unit, the assessment, then the save's six (tests/assessments/
    test_score_save.py), the last of them after commit."""
    assert _statements_of_request(statements_as_in_production, size, first_entry=first_entry) == 9


BODIES = [
    {"scores": [{"student": 1, "skill": "A", "value": "3", "version": 2}]},
    {"scores": [{"student": "7", "skill": " B ", "value": "", "version": None, "extra": 1}]},
    {"scores": [{"student": 1.0, "skill": 5, "value": 3.5}]},
    {"scores": [{"skill": "A"}]},
    {"scores": [{"student": True, "skill": False, "value": None, "version": "x"}]},
    {"scores": [{"student": "1e3", "skill": "", "value": "  ", "version": []}]},
    {"scores": [{"student": 1, "skill": "A" * 41, "value": "9" * 21}]},
    {"scores": [{"student": None, "skill": ["A"], "value": {"v": 1}}]},
    {"scores": ["row", 3, None]},
    {"scores": []},
    {"scores": "A,B"},
    {"scores": {"0": {}}},
    {"rows": []},
    ["scores"],
    {"scores": [{"student": 1, "skill": "A", "value": "1"}] * 5001},
    {"scores": [{"student": 0, "skill": "A", "value": "1"}, {"student": "-5", "skill": "A"}]},
    {"scores": [{"student": 2**64, "skill": "A", "value": "1", "version": 2**40}]},
    {"scores": [{"student": 1, "skill": "\ud800", "value": "1"}]},
    {"scores": [{"student": 1, "skill": "A", "value": "A\x00"}]},
    {"scores": [{"student": 1, "skill": "A", "value": "\udfff" * 21 + "\x00"}]},
    {"scores": [{"student": 1, "skill": "A", "value": "3", "reason": " Regraded after retake "}]},
    {"scores": [{"student": 1, "skill": "A", "value": "3", "reason": ""}]},
    {"scores": [{"student": 1, "skill": "A", "value": "3", "reason": None}]},
    {"scores": [{"student": 1, "skill": "A", "value": "3", "reason": "r" * 201}]},
    {"scores": [{"student": 1, "skill": "A", "value": "3", "reason": ["why"]}]},
]


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_the_fast_body_reader_agrees_with_the_documented_serializers(body):
    """The bulk-save view reads bodies by hand for speed; it must accept, refuse and explain
    exactly as the serializers in the OpenAPI schema do, and answer as they would."""
    from rest_framework.exceptions import ValidationError

    from assessments.api.serializers import (
        ScoreBulkInputSerializer,
        ScoreBulkOutputSerializer,
        score_bulk_output,
        score_entries_parse,
    )
    from assessments.services import RowProblem, SaveResult, ScoreEntry

    serializer = ScoreBulkInputSerializer(data=body)
    if serializer.is_valid():
        expected = [
            ScoreEntry(
                row["student"],
                row["skill"],
                row["value"],
                row.get("version"),
                row.get("reason", ""),
            )
            for row in serializer.validated_data["scores"]
        ]
        assert score_entries_parse(body) == expected
    else:
        with pytest.raises(ValidationError) as refused:
            score_entries_parse(body)
        # As the client reads them: JSON, where the serializers' integer row keys are strings.
        assert json.loads(json.dumps(refused.value.detail)) == json.loads(
            json.dumps(serializer.errors)
        )
    result = SaveResult(
        saved=[{"student_id": 1, "skill_code": "A", "value": "3", "version": 2}],
        problems=[RowProblem(0, 1, "B", "Changed meanwhile", True, "4", 3, "Cam Co")],
    )
    assert score_bulk_output(result) == ScoreBulkOutputSerializer(result).data


@pytest.mark.parametrize("text", ["\\ud800", "2\\u0000"])
@pytest.mark.parametrize("field", ["skill", "value"])
def test_characters_no_score_can_hold_are_a_clear_400(field, text):
    teacher, classroom_unit, pre, students = _class_of(1)
    row = {"student": students[0].pk, "skill": "A", "value": "2"}
    body = json.dumps({"scores": [row]}).replace(f'"{row[field]}"', f'"{text}"', 1)
    response = _client(teacher).post(
        _url(classroom_unit, pre), body.encode(), content_type="application/json"
    )
    assert response.status_code == 400
    message = response.json()["scores"]["0"][field][0]
    assert "characters are not allowed" in message
    assert not Score.objects.exists()


def _class_of(size: int):
    return factories.make_taught_class(size)


def _payload(students, value: str) -> dict:
    return {
        "scores": [
            {"student": s.pk, "skill": code, "value": value} for s in students for code in "AB"
        ]
    }


def test_a_request_resent_with_its_idempotency_key_is_applied_once():
    from assessments.models import ScoreChange

    teacher, classroom_unit, pre, students = _class_of(3)
    client = _client(teacher)
    first = client.post(
        _url(classroom_unit, pre),
        _payload(students, "2"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="save-7f3a",
    )
    assert first.status_code == 200
    assert "Idempotent-Replayed" not in first
    again = client.post(
        _url(classroom_unit, pre),
        _payload(students, "2"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="save-7f3a",
    )
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["saved"] == first.json()["saved"]
    assert ScoreChange.objects.filter(classroom_unit=classroom_unit).count() == 6
    assert set(ScoreChange.objects.values_list("request_key", flat=True)) == {"save-7f3a"}
    # Without a key the same body is a new request, based on empty cells: a conflict.
    unkeyed = client.post(_url(classroom_unit, pre), _payload(students, "2"), format="json")
    assert unkeyed.status_code == 409


def test_an_idempotency_key_reused_for_other_values_is_refused_and_nothing_changes():
    from assessments.models import ScoreChange

    teacher, classroom_unit, pre, students = _class_of(2)
    client = _client(teacher)
    url = _url(classroom_unit, pre)
    assert (
        client.post(
            url, _payload(students, "2"), format="json", HTTP_IDEMPOTENCY_KEY="k1"
        ).status_code
        == 200
    )
    reused = client.post(url, _payload(students, "3"), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert reused.status_code == 400
    assert "already used for a different request" in str(reused.json())
    assert set(Score.objects.values_list("points", flat=True)) == {2}
    assert ScoreChange.objects.count() == 4


def _cells(classroom_unit) -> set[tuple]:
    return set(
        Score.objects.filter(classroom_unit=classroom_unit).values_list(
            "student_id",
            "assessment_skill__assessment__kind",
            "assessment_skill__skill__code",
            "points",
            "version",
        )
    )


@pytest.mark.parametrize(
    "second",
    ["the post-assessment", "one more cell", "a new value for a cell first left as it was"],
)
def test_an_idempotency_key_reused_for_another_request_is_refused_even_where_it_wrote_nothing(
    second,
):
    """History shows only the cells a request changed; a key reused for other cells, or for a
    cell the first request left as it was, must not be answered "saved" while nothing is."""
    teacher, classroom_unit, pre, students = _class_of(2)
    client = _client(teacher)
    first_row = {"student": students[0].pk, "skill": "A", "value": "2"}
    if second == "a new value for a cell first left as it was":
        # The cell already holds 1 when the keyed request sends 1: no history under the key.
        settled = {"scores": [{"student": students[1].pk, "skill": "A", "value": "1"}]}
        assert client.post(_url(classroom_unit, pre), settled, format="json").status_code == 200
        body = {"scores": [first_row, {**settled["scores"][0], "version": 1}]}
    else:
        body = {"scores": [first_row]}
    assert (
        client.post(
            _url(classroom_unit, pre), body, format="json", HTTP_IDEMPOTENCY_KEY="k1"
        ).status_code
        == 200
    )
    before = _cells(classroom_unit)
    url, rows = _url(classroom_unit, pre), list(body["scores"])
    if second == "the post-assessment":
        url = _url(classroom_unit, classroom_unit.unit.assessments.get(kind="post"))
    elif second == "one more cell":
        rows.append({"student": students[1].pk, "skill": "B", "value": "3"})
    else:
        rows[1] = {**rows[1], "value": "4"}
    reused = client.post(url, {"scores": rows}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert reused.status_code == 400, reused.json()
    assert "already used for a different request" in str(reused.json())
    assert _cells(classroom_unit) == before


def test_a_resent_request_with_a_cell_it_left_as_it_was_is_still_a_replay():
    teacher, classroom_unit, pre, students = _class_of(2)
    client = _client(teacher)
    settled = {"student": students[1].pk, "skill": "A", "value": "1"}
    assert (
        client.post(_url(classroom_unit, pre), {"scores": [settled]}, format="json").status_code
        == 200
    )
    body = {
        "scores": [
            {"student": students[0].pk, "skill": "A", "value": "2"},
            {**settled, "version": 1},
        ]
    }
    first = client.post(_url(classroom_unit, pre), body, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    again = client.post(_url(classroom_unit, pre), body, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"

    def cells(response):
        return sorted(response.json()["saved"], key=lambda row: (row["student"], row["skill"]))

    assert cells(again) == cells(first)


@pytest.mark.parametrize("key", ["x" * 65, "has space", "naïve"])
def test_a_malformed_idempotency_key_is_a_clear_400(key):
    teacher, classroom_unit, pre, students = _class_of(1)
    response = _client(teacher).post(
        _url(classroom_unit, pre),
        _payload(students, "2"),
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert response.status_code == 400
    assert response.json() == {
        "Idempotency-Key": ["Use up to 64 visible ASCII characters, without spaces."]
    }
    assert not Score.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_copies_of_one_request_sent_at_once_are_applied_once():
    """A client that times out and resends while the first copy is still running."""
    import threading

    from django.db import connections

    from assessments.models import ScoreChange

    teacher, classroom_unit, pre, students = _class_of(25)
    token, _ = Token.objects.get_or_create(user=teacher)
    statuses: list[tuple[int, str]] = []
    start = threading.Barrier(4)

    def send() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        start.wait()
        try:
            response = client.post(
                _url(classroom_unit, pre),
                _payload(students, "1.5"),
                format="json",
                HTTP_IDEMPOTENCY_KEY="resent-once",
            )
            statuses.append((response.status_code, response.get("Idempotent-Replayed", "")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [(200, ""), (200, "true"), (200, "true"), (200, "true")]
    assert ScoreChange.objects.filter(classroom_unit=classroom_unit).count() == 50
    assert set(Score.objects.values_list("version", flat=True)) == {1}


def test_get_answers_the_cells_changed_since_a_cursor_with_who_changed_them(world):
    """The grid polls this to show a co-teacher's saves without a reload."""
    classroom_unit, pre = _pre(world)
    teacher, student = world.users["teacher_a1"], world.students["a1"]
    co_teacher = factories.UserFactory(district=world.districts["a"], first_name="Kim")
    co_teacher.last_name = "Co"
    co_teacher.save()
    classroom_unit.classroom.teachers.add(co_teacher)
    url = _url(classroom_unit, pre)
    cursor = _client(teacher).get(f"{url}?since=0").json()["cursor"]

    row = {"student": student.pk, "skill": "B", "value": "3,5", "reason": "Retook the quiz"}
    assert _client(co_teacher).post(url, {"scores": [row]}, format="json").status_code == 200

    answer = _client(teacher).get(f"{url}?since={cursor}").json()
    assert answer["changes"] == [
        {"student": student.pk, "skill": "B", "value": "3.5", "version": 1, "by": "Kim Co",
         "mine": False}
    ]  # fmt: skip
    assert answer["cursor"] > cursor
    again = _client(teacher).get(f"{url}?since={answer['cursor']}").json()
    assert again == {"cursor": answer["cursor"], "changes": []}
    change = ScoreChange.objects.get(student=student, new_points=Decimal("3.5"))
    assert change.reason == "Retook the quiz"


@pytest.mark.parametrize("since", ["x", "-1", "1e3", str(2**64)])
def test_get_with_a_cursor_that_is_not_one_is_a_clear_400(world, since):
    classroom_unit, pre = _pre(world)
    response = _client(world.users["teacher_a1"]).get(f"{_url(classroom_unit, pre)}?since={since}")
    assert response.status_code == 400
    assert "since" in response.json()
