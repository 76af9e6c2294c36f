"""Schemathesis over the OpenAPI schema, as each role of district A, against the WSGI app.

Every operation of ``/api/schema/`` is fuzzed as district A's admin, a coach, a teacher and a
user with no role (each with the token ``POST /api/token/`` gives them), with positive and
negative data. Every response goes through all of Schemathesis's checks (server errors, status
codes, content types, headers and bodies against the schema, valid data accepted, invalid data
refused, authentication enforced ...) and through one of ours: no object of district B appears
in a success response, neither by id under a key that names its model nor by any of its names
(every name, code and username in district B carries the word ``Borealis``).

Positive cases are steered towards real rows: path ids and foreign keys in bodies are often
replaced by ids of rows of both districts, so that the fuzzer reaches success responses and
tries district B's rows by direct id and inside request bodies.

The run is deterministic (derandomized Hypothesis, seeded steering) and bounded: each operation
gets THINSLICE_FUZZ_EXAMPLES positive and as many negative cases (default 10), and every case is
sent as each role, in turn. The test prints each role's figures (THINSLICE_FUZZ_VERBOSE=1 adds
the statuses per operation).
"""

from __future__ import annotations

import copy
import io
import json
import os
import random
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, models, transaction
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup, ServerError

from assessments.models import Score
from classrooms.models import (
    AcademicYear,
    Classroom,
    District,
    Enrollment,
    School,
    Student,
    StudentGroup,
    Term,
    User,
)
from reports import exports
from reports.exports import jobs as export_jobs
from reports.models import ExportJob
from tests import factories
from tests.conftest import World, build_world
from units.models import Assessment, AssessmentSkill, ClassroomUnit, Skill, Unit

ROLES = ("admin_a", "coach_a1", "teacher_a1", "no_role_a")
PASSWORD = "pw-for-tests"  # tests/factories.py
EXAMPLES = int(os.environ.get("THINSLICE_FUZZ_EXAMPLES", "10"))
MARKER = "Borealis"
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)

# How each model reaches its district: the rows of district B are the ones no caller of
# district A may ever see.
DISTRICT_PATHS: dict[type[models.Model], str] = {
    District: "pk",
    School: "district",
    AcademicYear: "district",
    Term: "academic_year__district",
    Classroom: "school__district",
    StudentGroup: "district",
    Student: "district",
    Enrollment: "classroom__school__district",
    User: "district",
    Unit: "district",
    Skill: "unit__district",
    Assessment: "unit__district",
    ClassroomUnit: "classroom__school__district",
    Score: "classroom_unit__classroom__school__district",
    ExportJob: "district",
}
# What an id under each key of a response body names.
KEY_MODELS: dict[str, type[models.Model]] = {
    "district": District,
    "school": School,
    "academic_year": AcademicYear,
    "term": Term,
    "classroom": Classroom,
    "teachers": User,
    "groups": StudentGroup,
    "student": Student,
    "unit": Unit,
    "skills": Skill,
    "assessment": Assessment,
    "assessments": Assessment,
    "classroom_unit": ClassroomUnit,
    "entered_by": User,
}
# What the objects of each route are ("/api/<resource>/...").
RESOURCE_MODELS: dict[str, type[models.Model]] = {
    "districts": District,
    "schools": School,
    "academic-years": AcademicYear,
    "terms": Term,
    "classrooms": Classroom,
    "student-groups": StudentGroup,
    "students": Student,
    "enrollments": Enrollment,
    "users": User,
    "units": Unit,
    "classroom-units": ClassroomUnit,
    "scores": Score,
    "export-jobs": ExportJob,
    "exports": ExportJob,
}
# Which ids a path parameter takes, when positive cases are steered to real rows.
PATH_PARAMETER_MODELS: dict[str, type[models.Model]] = {
    "classroom_unit_id": ClassroomUnit,
    "assessment_id": Assessment,
}
# Every built-in check, on every operation. A write whose body has the right shape may still
# break a rule the schema cannot state (a student not enrolled, a plan without a post-assessment,
# another district's id, a wrong password): 400 is a right answer to it.
CONFIG = schemathesis.Config.from_dict(
    {
        "operations": [
            {
                "include-method": ["POST", "PUT"],
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]
                    }
                },
            }
        ]
    }
)
SEED = 20261201
START_DATE = "2026-10-26"  # inside the fixture's term (tests/factories.py)
USERNAMES = (*ROLES, "admin_b", "teacher_b1")
MEASURES = [{"skill_code": "A", "max_points": "4"}, {"skill_code": "B", "max_points": "6"}]
# A plan that follows every thin-slice rule (tests/factories.valid_plan).
VALID_UNIT = {
    "title": "Fuzzed unit",
    "subject": "Math",
    "grade_level": "5",
    "weeks": 8,
    "skills": [{"code": "A", "description": "Skill A"}, {"code": "B"}],
    "assessments": [
        {"kind": "pre", "week": 1, "title": "Pre", "measures": MEASURES},
        {"kind": "formative", "week": 4, "title": "Check week 4", "measures": MEASURES},
        {"kind": "post", "week": 8, "title": "Post", "measures": MEASURES},
    ],
}
SCORE_VALUES = ("", "A", "X", "0", "1", "2.5", "3", "4", "6", "7")


def _mark_district(district: District) -> None:
    """Put the marker into every free-text field of every row of ``district``."""
    for model, path in DISTRICT_PATHS.items():
        text_fields = [
            model_field.name
            for model_field in model._meta.concrete_fields
            if isinstance(model_field, models.CharField | models.TextField)
            and not model_field.choices
            and model_field.name not in {"password", "sourced_id"}
        ]
        for row in model._default_manager.filter(**{path: district.pk}):
            for name in text_fields:
                value = getattr(row, name)
                if value:
                    limit = model._meta.get_field(name).max_length or 1000
                    setattr(row, name, f"{MARKER}{value}"[:limit])
            row.save(update_fields=text_fields)


def _succeeded_export_job(actor: User) -> ExportJob:
    prepared = exports.export_prepare(actor=actor, kind="scores")
    job = exports.export_job_create(prepared=prepared)
    ExportJob.objects.filter(pk=job.pk).update(status="running")
    return export_jobs.export_job_run(job_id=job.pk)


@dataclass
class Fixture:
    world: World
    foreign: dict[type[models.Model], set[int]] = field(default_factory=dict)
    pools: dict[type[models.Model], list[int]] = field(default_factory=dict)
    score_targets: list[tuple[int, int]] = field(default_factory=list)
    # Per (classroom unit, assessment): its cells (student, skill code, version or None).
    score_cells: dict[tuple[int, int], list[tuple[int, str, int | None]]] = field(
        default_factory=dict
    )
    skill_codes: list[str] = field(default_factory=list)

    def refresh(self) -> None:
        """Ids of district B's rows (the foreign ones) and of both districts' rows (to steer)."""
        district_b = self.world.districts["b"]
        for model, path in DISTRICT_PATHS.items():
            rows = model._default_manager.order_by("pk")
            self.foreign[model] = set(
                rows.filter(**{path: district_b.pk}).values_list("pk", flat=True)
            )
            self.pools[model] = list(rows.values_list("pk", flat=True)[:200])
        self.score_targets = [
            (classroom_unit.pk, assessment.pk)
            for classroom_unit in ClassroomUnit.objects.order_by("pk")
            for assessment in Assessment.objects.filter(unit_id=classroom_unit.unit_id)
        ]
        versions = {
            (score.classroom_unit_id, score.student_id, score.assessment_skill_id): score.version
            for score in Score.objects.all()
        }
        self.score_cells = {}
        for classroom_unit_id, assessment_id in self.score_targets:
            classroom_unit = ClassroomUnit.objects.get(pk=classroom_unit_id)
            students = Enrollment.objects.filter(
                classroom_id=classroom_unit.classroom_id
            ).values_list("student_id", flat=True)
            measures = AssessmentSkill.objects.filter(assessment_id=assessment_id)
            self.score_cells[classroom_unit_id, assessment_id] = [
                (
                    student,
                    measure.skill.code,
                    versions.get((classroom_unit_id, student, measure.pk)),
                )
                for student in students
                for measure in measures.select_related("skill")
            ]
        self.skill_codes = sorted(set(Skill.objects.values_list("code", flat=True)))


@pytest.fixture
def fuzz_fixture(db: Any, settings: Any, tmp_path: Any) -> Fixture:
    """tests/conftest.py's two districts, district B's names marked, and an export file each."""
    settings.THINSLICE_EXPORT_DIR = str(tmp_path)
    world = build_world()
    for admin in ("admin_a", "admin_b"):
        _succeeded_export_job(world.users[admin])
    _mark_district(world.districts["b"])
    for district in world.districts.values():
        # A unit taught nowhere yet, so that starting it in a classroom can succeed.
        factories.make_unit(district, title="Decimals")
    fixture = Fixture(world=world)
    fixture.refresh()
    return fixture


@contextmanager
def _one_connection() -> Iterator[None]:
    """Serve requests on the test's own connection and transaction, as Django's test client
    does: the real WSGI handler would close the connection after each request. (Not around
    the test client itself, which reconnects these signals after each of its requests.)"""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _token(username: str) -> str:
    response = Client().post("/api/token/", {"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def _body_texts(response: Any) -> list[str]:
    content: bytes = response.content
    if content[:2] == b"PK":  # a zip (OneRoster results): look inside every file
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
    return [content.decode("utf-8", "replace")]


def _foreign_refs(
    value: Any, model: type[models.Model] | None, foreign: dict[type[models.Model], set[int]]
) -> list[str]:
    """Where ``value`` (a JSON body) names a row of district B: "Model #id" for each."""
    found: list[str] = []
    if isinstance(value, list):
        for item in value:
            found += _foreign_refs(item, model, foreign)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "id" and model is not None:
                found += _foreign_ids(item, model, foreign)
            elif key in KEY_MODELS:
                found += _foreign_ids(item, KEY_MODELS[key], foreign)
            elif key == "results":
                found += _foreign_refs(item, model, foreign)
            else:
                found += _foreign_refs(item, None, foreign)
    return found


def _foreign_ids(
    item: Any, model: type[models.Model], foreign: dict[type[models.Model], set[int]]
) -> list[str]:
    if isinstance(item, bool):
        return []
    if isinstance(item, int):
        return [f"{model.__name__} #{item}"] if item in foreign[model] else []
    if isinstance(item, list):
        return [ref for element in item for ref in _foreign_ids(element, model, foreign)]
    if isinstance(item, dict):
        return _foreign_refs(item, model, foreign)
    return []


@dataclass
class Figures:
    operations: set[str] = field(default_factory=set)
    succeeded: set[str] = field(default_factory=set)
    by_operation: Counter[tuple[str, int]] = field(default_factory=Counter)
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    schema_violations: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)


def _steer(fixture: Fixture, case: schemathesis.Case, rng: random.Random) -> None:
    """Point a positive case at real rows of either district, three times in four."""
    if rng.random() < 0.25:
        return
    pools = fixture.pools
    path = case.operation.path
    resource = path.split("/")[2]
    if case.query and "page" in case.query:
        case.query["page"] = 1
    if path.endswith("/scores/"):
        own = [t for t in fixture.score_targets if t[0] not in fixture.foreign[ClassroomUnit]]
        target = rng.choice(own if rng.random() < 0.7 else fixture.score_targets)
        case.path_parameters.update(classroom_unit_id=target[0], assessment_id=target[1])
        if isinstance(case.body, dict) and case.body.get("scores") and rng.random() < 0.7:
            # The target's own cells with values a teacher could type, at the versions they
            # had when the case was made (a later write makes them conflicts).
            cells = rng.sample(fixture.score_cells[target], len(fixture.score_cells[target]))
            case.body["scores"] = [
                {
                    "student": student,
                    "skill": code,
                    "value": rng.choice(SCORE_VALUES),
                    **({"version": version} if version or rng.random() < 0.5 else {}),
                }
                for student, code, version in cells[: len(case.body["scores"])]
            ] or case.body["scores"]
            return
    else:
        for name in list(case.path_parameters or {}):
            model = PATH_PARAMETER_MODELS.get(name) or RESOURCE_MODELS.get(resource)
            if model is not None and pools[model]:
                case.path_parameters[name] = rng.choice(pools[model])
    if isinstance(case.body, dict):
        _steer_body(fixture, path, case.body, rng)


def _steer_body(fixture: Fixture, path: str, body: dict[str, Any], rng: random.Random) -> None:
    pools = fixture.pools
    if path.startswith("/api/units/") and rng.random() < 0.5:
        district = body.get("district")
        body.clear()
        body.update(copy.deepcopy(VALID_UNIT))
        if isinstance(district, int):
            body["district"] = district
    if "password" in body:
        body.update(username=rng.choice(USERNAMES), password=PASSWORD)
    if "start_date" in body:
        body["start_date"] = START_DATE
    for key in list(body):
        model = KEY_MODELS.get(key)
        if model is not None and isinstance(body[key], int):
            body[key] = rng.choice(pools[model])
    for row in body.get("scores") or []:
        if isinstance(row, dict):
            row["student"] = rng.choice(pools[Student])
            row["skill"] = rng.choice(fixture.skill_codes)
            row["value"] = rng.choice(SCORE_VALUES)
            row["version"] = rng.choice([None, 1, 2])


class Fuzzer:
    """Sends one generated case as one role and runs every check on the answer."""

    def __init__(self, fixture: Fixture, token: str, figures: Figures) -> None:
        self.fixture = fixture
        self.headers = {"Authorization": f"Token {token}"}
        self.figures = figures

    def exchange(self, case: schemathesis.Case) -> None:
        figures = self.figures
        figures.operations.add(case.operation.label)
        # A savepoint per request: a request that broke the transaction is undone alone.
        savepoint = transaction.savepoint()
        response = case.call(headers=self.headers)
        figures.requests += 1
        figures.statuses[response.status_code] += 1
        figures.by_operation[case.operation.label, response.status_code] += 1
        if 200 <= response.status_code < 300:
            figures.succeeded.add(case.operation.label)
        try:
            case.validate_response(response, headers=self.headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                self._record(case, response, failure)
        if response.status_code >= 500:
            transaction.savepoint_rollback(savepoint)
        else:
            transaction.savepoint_commit(savepoint)
        if 200 <= response.status_code < 300:
            self._check_no_foreign_object(case, response)
            if case.method != "GET":
                # A write may have made a new row; if it landed in district B, it is foreign.
                self.fixture.refresh()

    def _record(self, case: schemathesis.Case, response: Any, failure: Exception) -> None:
        title = getattr(failure, "title", type(failure).__name__)
        line = (
            f"{case.operation.label} -> {response.status_code}: {title}\n{failure}\n"
            f"{case.as_curl_command()}\n"
            f"got {response.content[:300]!r}"
        )
        if isinstance(failure, ServerError):
            self.figures.server_errors.append(line)
        else:
            self.figures.schema_violations.append(line)

    def _check_no_foreign_object(self, case: schemathesis.Case, response: Any) -> None:
        sent = json.dumps([case.path_parameters, case.query, case.body], default=str)
        refs: list[str] = []
        if MARKER.lower() not in sent.lower():
            refs += [
                f"the name {MARKER}…"
                for text in _body_texts(response)
                if MARKER.lower() in text.lower()
            ]
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        resource = case.operation.path.split("/")[2]
        refs += _foreign_refs(body, RESOURCE_MODELS.get(resource), self.fixture.foreign)
        for ref in refs:
            self.figures.leaks.append(f"{case.operation.label} as {case.formatted_path}: {ref}")


def _generate(fixture: Fixture, operation: Any, mode: GenerationMode) -> list[schemathesis.Case]:
    """EXAMPLES cases for ``operation``, the same whoever sends them."""
    strategy = operation.as_strategy(generation_mode=mode)
    cases: list[schemathesis.Case] = []
    # Steering draws from its own seeded generator: it is not what Hypothesis should vary.
    rng = random.Random(f"{SEED}-{operation.label}-{mode.value}")

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def collect(case: schemathesis.Case) -> None:
        if mode == GenerationMode.POSITIVE:
            _steer(fixture, case, rng)
        cases.append(case)

    collect()
    return cases


def test_api_fuzz_as_each_role_finds_no_server_error_schema_violation_or_other_district_object(
    fuzz_fixture: Fixture,
) -> None:
    app = WSGIHandler()
    figures = {role: Figures() for role in ROLES}
    # Before the WSGI requests: Django's test client reconnects the signals it disconnects.
    tokens = {role: _token(role) for role in ROLES}
    with _one_connection():
        schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app, config=CONFIG)
        operations = [result.ok() for result in schema.get_all_operations()]
        started = time.monotonic()
        cases = [
            case
            for operation in operations
            for mode in MODES
            for case in _generate(fuzz_fixture, operation, mode)
        ]
        generated = time.monotonic()
        for role in ROLES:
            fuzzer = Fuzzer(fuzz_fixture, tokens[role], figures[role])
            for case in cases:
                fuzzer.exchange(case)

    print(
        f"\nAPI fuzz: {len(cases)} cases over {len(operations)} operations generated in "
        f"{generated - started:.0f} s, sent as {len(ROLES)} roles in "
        f"{time.monotonic() - generated:.0f} s"
    )
    for role, role_figures in figures.items():
        print(
            f"\nAPI fuzz as {role}: {len(role_figures.operations)} operations fuzzed, "
            f"{role_figures.requests} requests, "
            f"{len(role_figures.succeeded)} operations answered with a success, "
            f"statuses {dict(sorted(role_figures.statuses.items()))}, "
            f"{len(role_figures.server_errors)} server errors, "
            f"{len(role_figures.schema_violations)} schema violations, "
            f"{len(role_figures.leaks)} cross-district leaks"
        )
    if os.environ.get("THINSLICE_FUZZ_VERBOSE"):
        for role, role_figures in figures.items():
            print(role, sorted(role_figures.by_operation.items()))
    everyone = Figures()
    for role_figures in figures.values():
        everyone.operations |= role_figures.operations
        everyone.server_errors += role_figures.server_errors
        everyone.schema_violations += role_figures.schema_violations
        everyone.leaks += role_figures.leaks
    for role_figures in figures.values():
        assert len(role_figures.operations) == len(operations) > 0
        assert role_figures.requests == len(cases) >= len(operations) * len(MODES)
    assert everyone.server_errors == [], _summary(everyone.server_errors)
    assert everyone.schema_violations == [], _summary(everyone.schema_violations)
    assert everyone.leaks == [], _summary(everyone.leaks)


def _summary(failures: list[str]) -> str:
    """Each kind of failure once, with how often it happened and its first full report."""
    first: dict[str, str] = {}
    counts: Counter[str] = Counter()
    for failure in failures:
        kind = failure.splitlines()[0]
        counts[kind] += 1
        first.setdefault(kind, failure)
    return "\n\n".join(f"{counts[kind]} x {first[kind]}" for kind in counts)


def test_cross_district_check_catches_a_view_that_forgets_its_scope(
    fuzz_fixture: Fixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The custom check is not vacuous: a students list that forgot ``visible_to`` is caught,
    by the other district's ids and by their names, while Schemathesis's own checks pass."""
    from classrooms.api.views import StudentViewSet

    # cross-tenant: the bug this test plants on purpose.
    monkeypatch.setattr(StudentViewSet, "scope_queryset", lambda self, qs: Student.objects.all())
    figures = Figures()
    fuzzer = Fuzzer(fuzz_fixture, _token("teacher_a1"), figures)
    with _one_connection():
        schema = schemathesis.openapi.from_wsgi(
            "/api/schema/?format=json", WSGIHandler(), config=CONFIG
        )
        operation = schema["/api/students/"]["GET"]
        fuzzer.exchange(operation.Case())

    foreign_students = fuzz_fixture.foreign[Student]
    assert figures.statuses == Counter({200: 1})
    assert figures.server_errors == figures.schema_violations == []
    assert {f"Student #{pk}" for pk in foreign_students} <= {
        leak.rsplit(": ", 1)[1] for leak in figures.leaks
    }
    assert any(MARKER in leak for leak in figures.leaks)
