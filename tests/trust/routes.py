"""The probes of the authorization matrix: for every route of the URL configuration, the
requests that try it (a list, each object by its id, ids of other rows placed in the body or the
query) and, for each, who may get through according to tests/trust/policy.py.

``all_probes`` returns them all; ``route_keys`` lists every route of ``get_resolver()``, so a route
without probes is noticed (test_authorization_matrix.py::test_every_route_is_in_the_matrix).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.db import models
from django.http import HttpResponseBase
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from assessments import score_csv
from assessments.models import Score
from classrooms.admin_scoping import site
from classrooms.models import (
    AcademicYear,
    AuditEvent,
    Classroom,
    District,
    Enrollment,
    School,
    Student,
    StudentGroup,
    Term,
    User,
)
from reports.models import ExportJob
from tests.trust import harness
from tests.trust.conftest import (
    ROLES,
    Thing,
    TrustWorld,
    audit_marker,
    role_of,
)
from tests.trust.policy import (
    ADMIN_NO_ADD,
    ADMIN_NO_DELETE,
    ADMIN_READ_ONLY,
    EXPORT_AGGREGATE,
    EXPORT_KINDS,
    PRIVACY,
    SET_UP,
    START_UNITS,
    WRITE_UNITS,
    any_district_role,
    enrolled_in,
    has_role,
    is_member,
    may_edit_unit,
    may_enter_scores,
    may_read,
    sets_up,
    teaches_unit_u,
)
from units.models import ClassroomUnit, Unit


@dataclass(frozen=True)
class Listing:
    """How to read which rows a list shows: ``label`` pairs it with direct probes of the same
    label; ``expected`` is what the table says the person should see."""

    label: str
    rows: Callable[[HttpResponseBase, bytes], set[int]]
    expected: Callable[[str], set[int]]


@dataclass
class Probe:
    route: str
    method: str
    path: str
    allowed: Callable[[str], bool]
    probe: str  # "list", "direct" (id in the URL), "body" (ids in the body or query), "page"
    target: Thing | None = None
    named: tuple[Thing, ...] = ()
    data: Any = None  # a value, or a function of the user key
    content_type: str = ""  # "" (form), "json" or "multipart"
    judge: Callable[[HttpResponseBase], bool] = harness.reached
    listing: Listing | None = None
    reaches: str = ""  # label of the list this direct probe pairs with
    follow: bool = False
    echo: tuple[str, ...] = ()  # markers the request itself carries (a typed SIS id)

    def body(self, user_key: str) -> Any:
        return self.data(user_key) if callable(self.data) else self.data


def everyone(_user_key: str) -> bool:
    return True


def nobody(_user_key: str) -> bool:
    return False


def _read(thing: Thing) -> Callable[[str], bool]:
    return lambda user_key: may_read(user_key, thing)


def _readable_ids(world: TrustWorld, model: type[models.Model]) -> Callable[[str], set[int]]:
    return lambda user_key: {t.pk for t in world.of_model(model) if may_read(user_key, t)}


# --- API: read-only resources -----------------------------------------------------------------

API_MODELS: dict[str, type[models.Model]] = {
    "district": District,
    "school": School,
    "academic-year": AcademicYear,
    "term": Term,
    "classroom": Classroom,
    "student-group": StudentGroup,
    "student": Student,
    "enrollment": Enrollment,
    "user": User,
    "unit": Unit,
    "classroom-unit": ClassroomUnit,
    "score": Score,
    "export-job": ExportJob,
}
API_WRITABLE_LISTS = {"unit", "classroom-unit"}


def _api_list_ids(response: HttpResponseBase, body: bytes) -> set[int]:
    return harness.json_ids(json.loads(body))


def api_probes(world: TrustWorld) -> Iterator[Probe]:
    for basename, model in API_MODELS.items():
        label = f"api:{basename}"
        yield Probe(
            route=f"{basename}-list",
            method="get",
            path=reverse(f"{basename}-list"),
            allowed=is_member,
            probe="list",
            listing=Listing(label, _api_list_ids, _readable_ids(world, model)),
        )
        if basename not in API_WRITABLE_LISTS:
            yield Probe(
                f"{basename}-list",
                "post",
                reverse(f"{basename}-list"),
                nobody,
                "body",
                data={},
                content_type="json",
            )
        for thing in world.of_model(model):
            path = reverse(f"{basename}-detail", args=[thing.pk])
            yield Probe(
                f"{basename}-detail", "get", path, _read(thing), "direct", thing, reaches=label
            )
        # Methods the resource does not route (405 before any lookup): one row is enough.
        thing = world.of_model(model)[0]
        path = reverse(f"{basename}-detail", args=[thing.pk])
        for method in ("patch", "delete") if basename == "unit" else ("put", "patch", "delete"):
            yield Probe(
                f"{basename}-detail",
                method,
                path,
                nobody,
                "direct",
                thing,
                data={"id": thing.pk},
                content_type="json",
            )


# --- API: units and classroom units -------------------------------------------------------------


def unit_body(world: TrustWorld, unit_key: str, title: str, skill_ids_from: str = "") -> dict:
    """The unit's own plan as the API takes it, keeping its skill and assessment ids; with
    ``skill_ids_from`` the skill ids are another unit's (same codes)."""
    unit = world.obj(unit_key)
    skill_source = skill_ids_from or unit_key
    skills = [
        {"id": world.obj(f"{skill_source}:skill:{code}").pk, "code": code, "description": ""}
        for code in ("A", "B")
    ]
    assessments = []
    for local, kind, week in (
        ("pre", "pre", 1),
        ("f3", "formative", 3),
        ("f5", "formative", 5),
        ("post", "post", 8),
    ):
        assessment = world.obj(f"{unit_key}:{local}")
        assessments.append(
            {
                "id": assessment.pk,
                "kind": kind,
                "week": week,
                "title": assessment.title,
                "measures": [
                    {"skill_code": "A", "max_points": "4"},
                    {"skill_code": "B", "max_points": "6"},
                ],
            }
        )
    return {
        "title": title,
        "subject": unit.subject,
        "grade_level": unit.grade_level,
        "weeks": 8,
        "skills": skills,
        "assessments": assessments,
    }


def new_unit_body(title: str, **extra: Any) -> dict:
    measures = [{"skill_code": "N.1", "max_points": "5"}]
    return {
        "title": title,
        "subject": "Math",
        "grade_level": "5",
        "weeks": 8,
        "skills": [{"code": "N.1", "description": "New"}],
        "assessments": [
            {"kind": "pre", "week": 1, "title": "Pre", "measures": measures},
            {"kind": "formative", "week": 4, "title": "Check", "measures": measures},
            {"kind": "post", "week": 8, "title": "Post", "measures": measures},
        ],
        **extra,
    }


def unit_write_probes(world: TrustWorld) -> Iterator[Probe]:
    path = reverse("unit-list")
    yield Probe(
        "unit-list",
        "post",
        path,
        lambda u: any_district_role(u, WRITE_UNITS),
        "body",
        data=new_unit_body("New unit Q"),
        content_type="json",
    )
    for district in world.of_model(District):
        yield Probe(
            "unit-list",
            "post",
            path,
            lambda u, d=district: has_role(u, WRITE_UNITS, d.district),
            "body",
            named=(district,),
            data=new_unit_body("New unit Q", district=district.pk),
            content_type="json",
        )
    for unit in world.of_model(Unit):
        detail = reverse("unit-detail", args=[unit.pk])
        yield Probe(
            "unit-detail",
            "put",
            detail,
            lambda u, t=unit: may_edit_unit(u, t),
            "direct",
            unit,
            data=unit_body(world, unit.key, "Renamed Q"),
            content_type="json",
        )
        other_district = "b" if unit.district == "a" else "a"
        foreign_unit = f"{other_district}:u"
        yield Probe(
            "unit-detail",
            "put",
            detail,
            nobody,
            "body",
            unit,
            named=(world.thing(f"{foreign_unit}:skill:A"),),
            data=unit_body(world, unit.key, "Renamed Q", skill_ids_from=foreign_unit),
            content_type="json",
        )


def classroom_unit_write_probes(world: TrustWorld) -> Iterator[Probe]:
    path = reverse("classroom-unit-list")
    for classroom in world.of_model(Classroom):
        for unit_key in ("a:u2", "b:u2"):
            unit = world.thing(unit_key)

            def allowed(user_key: str, c: Thing = classroom, u: Thing = unit) -> bool:
                return (
                    has_role(user_key, START_UNITS[c.area], c.district) and u.district == c.district
                )

            yield Probe(
                "classroom-unit-list",
                "post",
                path,
                allowed,
                "body",
                classroom,
                named=(unit,),
                data={"classroom": classroom.pk, "unit": unit.pk, "start_date": "2027-01-04"},
                content_type="json",
            )


# --- The unit planner (/units/) ------------------------------------------------------------


def planner_form(title: str) -> dict[str, Any]:
    """A valid plan as the planner posts it (skills A and B, like every unit of the world)."""
    data: dict[str, Any] = {
        "title": title,
        "subject": "Math",
        "grade_level": "5",
        "weeks": "8",
        "skills-TOTAL_FORMS": "2",
        "skills-INITIAL_FORMS": "0",
        "skills-0-code": "A",
        "skills-1-code": "B",
        "assessments-TOTAL_FORMS": "4",
        "assessments-INITIAL_FORMS": "0",
    }
    for index, (kind, week, name) in enumerate(
        (
            ("pre", 1, "Pre"),
            ("formative", 3, "Week 3"),
            ("formative", 5, "Week 5"),
            ("post", 8, "Post"),
        )
    ):
        data[f"assessments-{index}-kind"] = kind
        data[f"assessments-{index}-week"] = str(week)
        data[f"assessments-{index}-title"] = name
        data[f"assessments-{index}-measures"] = "A=4, B=6"
    return data


def _same_district(user_key: str, thing: Thing) -> bool:
    return role_of(user_key)[0] == thing.district


def planner_probes(world: TrustWorld) -> Iterator[Probe]:
    writes = lambda u: any_district_role(u, WRITE_UNITS)  # noqa: E731
    yield Probe("units:library", "get", reverse("units:library"), is_member, "page")
    yield Probe("units:new", "get", reverse("units:new"), writes, "page")
    yield Probe(
        "units:new",
        "post",
        reverse("units:new"),
        writes,
        "page",
        data=planner_form("Planned Q"),
        judge=harness.applied,
    )
    for classroom in world.of_model(Classroom):
        # The burden of a plan for a section the person may not see counts nothing of it.
        yield Probe(
            "units:burden",
            "post",
            reverse("units:burden"),
            is_member,
            "body",
            named=(),
            data={**planner_form("Burden Q"), "sections": [str(classroom.pk)]},
        )
    for district in world.of_model(District):
        year, year2 = (
            world.thing(f"{district.district}:year"),
            world.thing(f"{district.district}:year2"),
        )
        for apply in ("0", "1"):
            yield Probe(
                "units:rollover",
                "post",
                reverse("units:rollover"),
                lambda u, d=district: sets_up(u, d.district),
                "body",
                named=(year, year2),
                data={"from_year": year.pk, "to_year": year2.pk, "apply": apply},
            )
    yield Probe(
        "units:rollover",
        "get",
        reverse("units:rollover"),
        lambda u: any_district_role(u, SET_UP),
        "page",
    )
    for unit in world.of_model(Unit):
        args = [unit.pk]
        yield Probe(
            "units:edit",
            "get",
            reverse("units:edit", args=args),
            lambda u, t=unit: may_edit_unit(u, t),
            "direct",
            unit,
        )
        yield Probe(
            "units:edit",
            "post",
            reverse("units:edit", args=args),
            lambda u, t=unit: may_edit_unit(u, t),
            "direct",
            unit,
            data=planner_form(f"Edited {unit.key} Q"),
            judge=harness.applied,
        )
        yield Probe(
            "units:start", "get", reverse("units:start", args=args), _read(unit), "direct", unit
        )
        yield Probe(
            "units:copy",
            "post",
            reverse("units:copy", args=args),
            lambda u, t=unit: may_read(u, t) and writes(u),
            "direct",
            unit,
            judge=harness.applied,
        )
        yield Probe(
            "units:share",
            "post",
            reverse("units:share", args=args),
            lambda u, t=unit: sets_up(u, t.district),
            "direct",
            unit,
            data={"audience": "district", "shared": "0"},
        )
        yield Probe(
            "units:share",
            "post",
            reverse("units:share", args=args),
            lambda u, t=unit: may_edit_unit(u, t),
            "direct",
            unit,
            data={"audience": "school", "shared": "1"},
        )
        if unit.key.endswith(":u"):
            continue  # taught in every classroom already
        for classroom in world.of_model(Classroom):
            body = {
                f"section-{classroom.pk}-chosen": "on",
                f"section-{classroom.pk}-start_date": "2027-01-04",
            }

            def starts(user_key: str, c: Thing = classroom, t: Thing = unit) -> bool:
                return (
                    may_read(user_key, t)
                    and has_role(user_key, START_UNITS[c.area], c.district)
                    and t.district == c.district
                )

            yield Probe(
                "units:start",
                "post",
                reverse("units:start", args=args),
                starts,
                "body",
                unit,
                named=(classroom,),
                data=body,
                judge=harness.applied,
            )
    yield from planner_api_probes(world)
    for cu in world.of_model(ClassroomUnit):
        yield Probe(
            "units:reflect",
            "post",
            reverse("units:reflect", args=[cu.pk]),
            lambda u, c=cu: may_enter_scores(u, c),
            "direct",
            cu,
            data={"reflection": "Needed more time Q"},
        )
        yield Probe(
            "classroom-unit-move",
            "post",
            reverse("classroom-unit-move", args=[cu.pk]),
            lambda u, c=cu: may_enter_scores(u, c),
            "direct",
            cu,
        )


def planner_api_probes(world: TrustWorld) -> Iterator[Probe]:
    """The planner's operations in the API: the same rules as the pages."""
    writes = lambda u: any_district_role(u, WRITE_UNITS)  # noqa: E731
    for district in world.of_model(District):
        year, year2 = (world.thing(f"{district.district}:{key}") for key in ("year", "year2"))
        yield Probe(
            "unit-rollover",
            "post",
            reverse("unit-rollover"),
            lambda u, d=district: sets_up(u, d.district),
            "body",
            named=(year, year2),
            data={"from_year": year.pk, "to_year": year2.pk, "dry_run": False},
            content_type="json",
        )
    for unit in world.of_model(Unit):
        args = [unit.pk]
        yield Probe(
            "unit-copy",
            "post",
            reverse("unit-copy", args=args),
            lambda u, t=unit: may_read(u, t) and writes(u),
            "direct",
            unit,
            data={},
            content_type="json",
        )
        yield Probe(
            "unit-share",
            "post",
            reverse("unit-share", args=args),
            lambda u, t=unit: sets_up(u, t.district),
            "direct",
            unit,
            data={"audience": "district", "shared": True},
            content_type="json",
        )
        yield Probe(
            "unit-share",
            "post",
            reverse("unit-share", args=args),
            lambda u, t=unit: may_edit_unit(u, t),
            "direct",
            unit,
            data={"audience": "school", "shared": True},
            content_type="json",
        )
        if unit.key.endswith(":u"):
            continue
        for classroom in world.of_model(Classroom):

            def starts(user_key: str, c: Thing = classroom, t: Thing = unit) -> bool:
                return (
                    may_read(user_key, t)
                    and has_role(user_key, START_UNITS[c.area], c.district)
                    and t.district == c.district
                )

            yield Probe(
                "unit-start",
                "post",
                reverse("unit-start", args=args),
                starts,
                "body",
                unit,
                named=(classroom,),
                data={"sections": [{"classroom": classroom.pk, "start_date": "2027-01-04"}]},
                content_type="json",
            )
    for cu in world.of_model(ClassroomUnit):
        yield Probe(
            "classroom-unit-reflection",
            "post",
            reverse("classroom-unit-reflection", args=[cu.pk]),
            lambda u, c=cu: may_enter_scores(u, c),
            "direct",
            cu,
            data={"reflection": "Needed more time Q"},
            content_type="json",
        )
        # Every class of the world follows the latest version: a teacher's move is refused by
        # the rule (400), so only the refusals of everyone else are probed here.
        yield Probe(
            "classroom-unit-move-api",
            "post",
            reverse("classroom-unit-move-api", args=[cu.pk]),
            nobody,
            "direct",
            cu,
            data={},
            content_type="json",
        )


# --- Scores: grid, history, CSV, bulk API ----------------------------------------------------


def _grid_assessments(world: TrustWorld, classroom_unit: Thing) -> list[Thing]:
    """The unit's pre-assessment, the pre of a unit of the same district not taught here, and
    the other district's pre."""
    d = classroom_unit.district
    other = "b" if d == "a" else "a"
    return [world.thing(key) for key in (f"{d}:u:pre", f"{d}:u2:pre", f"{other}:u:pre")]


def _score_version(world: TrustWorld, cu: Thing, student: Thing, kind: str) -> int | None:
    key = f"{cu.district}:score:{cu.key.split(':')[1]}:{student.area}:{kind}"
    return world.obj(key).version if key in world.things else None


def _enrolled_student(world: TrustWorld, cu: Thing) -> Thing:
    return next(t for t in world.of_model(Student) if enrolled_in(t, cu.area, cu.district))


def score_page_probes(world: TrustWorld) -> Iterator[Probe]:
    for cu in world.of_model(ClassroomUnit):
        for assessment in _grid_assessments(world, cu):
            args = [cu.pk, assessment.pk]
            same_unit = teaches_unit_u(assessment, cu)

            def reads(user_key: str, cu: Thing = cu, same_unit: bool = same_unit) -> bool:
                return same_unit and may_read(user_key, cu)

            def writes(user_key: str, cu: Thing = cu, same_unit: bool = same_unit) -> bool:
                return same_unit and may_enter_scores(user_key, cu)

            named = () if assessment.district == cu.district else (assessment,)
            yield Probe(
                "score-grid",
                "get",
                reverse("score-grid", args=args),
                reads,
                "direct",
                cu,
                named=named,
            )
            yield Probe(
                "score-bulk-save",
                "get",
                f"{reverse('score-bulk-save', args=args)}?since=0",
                reads,
                "direct",
                cu,
                named=named,
            )
            yield Probe(
                "score-csv-template",
                "get",
                reverse("score-csv-template", args=args),
                writes,
                "direct",
                cu,
                named=named,
            )
            yield Probe(
                "score-csv-upload",
                "get",
                reverse("score-csv-upload", args=args),
                writes,
                "direct",
                cu,
                named=named,
            )
            student = _enrolled_student(world, cu)
            yield Probe(
                "score-history",
                "get",
                f"{reverse('score-history', args=args)}?student={student.pk}&skill=A",
                lambda u, r=reads, s=student: r(u) and may_read(u, s),
                "direct",
                cu,
                named=named,
            )
        if cu.area != "c1":
            continue
        # Every student of the world asked for in the history of c1's cells.
        pre = world.thing(f"{cu.district}:u:pre")
        for student in world.of_model(Student):
            yield Probe(
                "score-history",
                "get",
                f"{reverse('score-history', args=[cu.pk, pre.pk])}?student={student.pk}&skill=A",
                lambda u, c=cu, s=student: may_read(u, c) and may_read(u, s),
                "body",
                cu,
                named=(student,),
            )


def score_bulk_probes(world: TrustWorld) -> Iterator[Probe]:
    for cu in world.of_model(ClassroomUnit):
        pre = world.thing(f"{cu.district}:u:pre")
        path = reverse("score-bulk-save", args=[cu.pk, pre.pk])
        other = "b" if cu.district == "a" else "a"
        students = [t for t in world.of_model(Student) if t.district == cu.district]
        for student in [*students, world.thing(f"{other}:st1")]:
            row = {
                "student": student.pk,
                "skill": "A",
                "value": "2",
                "version": _score_version(world, cu, student, "pre"),
            }

            def allowed(user_key: str, cu: Thing = cu, s: Thing = student) -> bool:
                return may_enter_scores(user_key, cu) and enrolled_in(s, cu.area, cu.district)

            yield Probe(
                "score-bulk-save",
                "post",
                path,
                allowed,
                "body",
                cu,
                named=(student,),
                data={"scores": [row]},
                content_type="json",
            )
        student = _enrolled_student(world, cu)
        for assessment in _grid_assessments(world, cu)[1:]:
            path = reverse("score-bulk-save", args=[cu.pk, assessment.pk])
            row = {"student": student.pk, "skill": "A", "value": "2", "version": None}
            yield Probe(
                "score-bulk-save",
                "post",
                path,
                nobody,
                "body",
                cu,
                named=(assessment,),
                data={"scores": [row]},
                content_type="json",
            )


def _csv_token(user: Any, cu: Thing, assessment: Thing, text: str, versions: dict) -> str:
    """A token as the upload page signs it after a preview: validly signed, for ``user``."""
    payload = {
        "user": user.pk,
        "classroom_unit": cu.pk,
        "assessment": assessment.pk,
        "filename": "scores.csv",
        "text": text,
        "versions": versions,
    }
    return signing.dumps(payload, salt=score_csv.TOKEN_SALT, compress=True)


def preview_offers_to_save(response: HttpResponseBase) -> bool:
    """A CSV preview that may be applied carries the apply form's token."""
    return response.status_code == 200 and b'name="token"' in response.content  # type: ignore[attr-defined]


def score_csv_post_probes(world: TrustWorld) -> Iterator[Probe]:
    for cu in world.of_model(ClassroomUnit):
        pre = world.thing(f"{cu.district}:u:pre")
        path = reverse("score-csv-upload", args=[cu.pk, pre.pk])
        student = _enrolled_student(world, cu)
        other = "b" if cu.district == "a" else "a"
        foreign = world.thing(f"{other}:st1")
        neighbour = world.thing(f"{cu.district}:{'st1b' if cu.area == 'c1' else 'st1'}")
        sis = {t: t.obj.sis_id for t in (student, foreign, neighbour)}
        text = "sis_id,A\n" + "".join(f"{sis[t]},2\n" for t in (student, foreign, neighbour))
        # A file naming another district's student and a neighbour class's: the preview may
        # open, but must not offer to save it.
        yield Probe(
            "score-csv-upload",
            "post",
            path,
            nobody,
            "body",
            cu,
            named=(foreign, neighbour),
            data={"file": ("scores.csv", text.encode())},
            content_type="multipart",
            echo=tuple(sis.values()),
            judge=preview_offers_to_save,
        )
        own_file = f"sis_id,A\n{student.obj.sis_id},2\n".encode()
        yield Probe(
            "score-csv-upload",
            "post",
            path,
            lambda u, c=cu: may_enter_scores(u, c),
            "direct",
            cu,
            data={"file": ("scores.csv", own_file)},
            content_type="multipart",
            echo=(student.obj.sis_id,),
            judge=preview_offers_to_save,
        )
        own_text = f"sis_id,A\n{student.obj.sis_id},2\n"
        versions = {f"{student.pk}:A": _score_version(world, cu, student, "pre")}

        def own_token(
            user_key: str,
            cu: Thing = cu,
            pre: Thing = pre,
            text: str = own_text,
            versions: dict = versions,
        ) -> dict:
            user = world.users[user_key]
            return {"token": _csv_token(user, cu, pre, text, versions)}

        yield Probe(
            "score-csv-upload",
            "post",
            path,
            lambda u, c=cu: may_enter_scores(u, c),
            "direct",
            cu,
            data=own_token,
        )
        foreign_cu = world.thing(f"{other}:cu1")
        foreign_pre = world.thing(f"{other}:u:pre")
        foreign_token = _csv_token(
            world.users[f"{other}:admin"], foreign_cu, foreign_pre, own_text, versions
        )
        yield Probe(
            "score-csv-upload",
            "post",
            path,
            nobody,
            "body",
            cu,
            named=(foreign_cu,),
            data={"token": foreign_token},
        )


# --- Exports --------------------------------------------------------------------------------


def _export_bodies(world: TrustWorld) -> Iterator[tuple[str, str, Thing | None]]:
    for kind in EXPORT_KINDS:
        yield kind, "", None
    for key in ("a:s1", "a:s2", "b:s1", "b:u", "b:year"):
        thing = world.thing(key)
        name = {School: "school", Unit: "unit", AcademicYear: "academic_year"}[type(thing.obj)]
        yield "aggregate_growth", name, thing
    yield "scores", "school", world.thing("b:s1")


def export_probes(world: TrustWorld) -> Iterator[Probe]:
    for kind, name, thing in _export_bodies(world):
        roles = EXPORT_KINDS[kind]

        def allowed(user_key: str, roles: frozenset[str] = roles, t: Thing | None = thing) -> bool:
            return any_district_role(user_key, roles) and (t is None or may_read(user_key, t))

        api_body: dict[str, Any] = {"kind": kind}
        form_body: dict[str, Any] = {"kind": kind}
        if thing is not None:
            api_body[name] = thing.pk
            form_body[name] = thing.pk
        named = (thing,) if thing is not None else ()
        yield Probe(
            "export-create",
            "post",
            reverse("export-create"),
            allowed,
            "body",
            named=named,
            data=api_body,
            content_type="json",
        )
        yield Probe(
            "export-page",
            "post",
            reverse("export-page"),
            allowed,
            "body",
            named=named,
            data=form_body,
        )
    yield Probe(
        "export-page",
        "get",
        reverse("export-page"),
        lambda u: any_district_role(u, EXPORT_AGGREGATE),
        "list",
        listing=Listing(
            "page:export-job",
            lambda r, b: harness.linked_ids(b.decode(), "/exports/jobs/"),
            _readable_ids(world, ExportJob),
        ),
    )
    for job in world.of_model(ExportJob):
        yield Probe(
            "export-job",
            "get",
            reverse("export-job", args=[job.pk]),
            _read(job),
            "direct",
            job,
            reaches="page:export-job",
        )
        yield Probe(
            "export-job-download",
            "get",
            reverse("export-job-download", args=[job.pk]),
            _read(job),
            "direct",
            job,
        )
        yield Probe(
            "api-export-job-download",
            "get",
            reverse("api-export-job-download", args=[job.pk]),
            _read(job),
            "direct",
            job,
        )


# --- Pages: home, sign-in, rosters, reports, roster import, audit --------------------------------


def page_probes(world: TrustWorld) -> Iterator[Probe]:
    yield Probe("home", "get", reverse("home"), is_member, "page")
    yield Probe("login", "get", reverse("login"), everyone, "page", judge=harness.answered)
    yield Probe("logout", "post", reverse("logout"), everyone, "page", judge=harness.answered)
    for classroom in world.of_model(Classroom):
        yield Probe(
            "classroom-roster",
            "get",
            reverse("classroom-roster", args=[classroom.pk]),
            _read(classroom),
            "direct",
            classroom,
        )
    yield Probe(
        "reports:home",
        "get",
        reverse("reports:home"),
        is_member,
        "list",
        listing=Listing(
            "page:school-report",
            lambda r, b: harness.linked_ids(b.decode(), "/reports/schools/"),
            _readable_ids(world, School),
        ),
    )
    for school in world.of_model(School):
        yield Probe(
            "reports:school",
            "get",
            reverse("reports:school", args=[school.pk]),
            _read(school),
            "direct",
            school,
            reaches="page:school-report",
        )
        for unit in world.of_model(Unit):
            for route in ("reports:school-unit-skills", "reports:school-unit-groups"):
                yield Probe(
                    route,
                    "get",
                    reverse(route, args=[school.pk, unit.pk]),
                    lambda u, s=school, t=unit: may_read(u, s) and may_read(u, t),
                    "direct",
                    school,
                    named=(unit,) if unit.district != school.district else (),
                )
    for cu in world.of_model(ClassroomUnit):
        yield Probe(
            "reports:classroom-unit",
            "get",
            reverse("reports:classroom-unit", args=[cu.pk]),
            _read(cu),
            "direct",
            cu,
        )
    yield Probe(
        "audit-event-list",
        "get",
        reverse("audit-event-list"),
        lambda u: any_district_role(u, SET_UP),
        "list",
        listing=Listing(
            "page:audit",
            lambda r, b: {
                t.pk for t in world.of_model(AuditEvent) if audit_marker(t.district) in b.decode()
            },
            _readable_ids(world, AuditEvent),
        ),
    )
    yield Probe("api-schema", "get", reverse("api-schema"), everyone, "page")
    yield Probe("api-docs", "get", reverse("api-docs"), everyone, "page")


def roster_zip() -> bytes:
    """A OneRoster zip with only a manifest: the dry run reaches the importer and reports
    problems, which is all these probes need."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.csv", "propertyName,value\nmanifest.version,1.0\n")
    return buffer.getvalue()


def kept_roster_plan(user: Any, district: Any) -> str:
    """The token of a dry run's kept plan of ``roster_zip`` for ``user`` and ``district``."""
    from classrooms import oneroster

    source = oneroster.roster_source_from_zip(data=roster_zip(), label="roster.zip")
    result = oneroster.roster_plan(district=district, source=source)
    return oneroster.roster_plan_keep(
        actor=user, district=district, plan=result.plan, filename="roster.zip"
    )


def roster_probes(world: TrustWorld) -> Iterator[Probe]:

    path = reverse("roster-import")
    yield Probe("roster-import", "get", path, lambda u: any_district_role(u, SET_UP), "page")
    yield Probe(
        "roster-import",
        "post",
        path,
        lambda u: any_district_role(u, SET_UP),
        "page",
        data={"file": ("roster.zip", roster_zip())},
        content_type="multipart",
    )

    def own_token(user_key: str) -> dict:
        user = world.users[user_key]
        district = world.obj(f"{role_of(user_key)[0] or 'a'}:district")
        return {"token": kept_roster_plan(user, district)}

    yield Probe(
        "roster-import",
        "post",
        path,
        lambda u: any_district_role(u, SET_UP),
        "page",
        data=own_token,
    )
    for district in world.of_model(District):

        def foreign_token(user_key: str, d: Thing = district) -> dict:
            admin = world.users[f"{d.district}:admin"]
            return {"token": kept_roster_plan(admin, d.obj)}

        # Another admin's preview: refused even to this district's other admins.
        yield Probe(
            "roster-import",
            "post",
            path,
            lambda u, d=district: u == f"{d.district}:admin",
            "body",
            named=(district,),
            data=foreign_token,
        )


def roster_import_probes(world: TrustWorld) -> Iterator[Probe]:
    """An applied import's page (its rollback previewed) and its rollback: the district's
    admins only; another district's import is a 404."""
    from classrooms.models import RosterImport

    for roster_import in world.of_model(RosterImport):
        path = reverse("roster-import-detail", args=[roster_import.pk])
        yield Probe(
            "roster-import-detail", "get", path, _read(roster_import), "direct", roster_import
        )
        yield Probe(
            "roster-import-detail", "post", path, _read(roster_import), "direct", roster_import
        )


def privacy_probes(world: TrustWorld) -> Iterator[Probe]:
    yield Probe(
        "privacy", "get", reverse("privacy"), lambda u: any_district_role(u, PRIVACY), "page"
    )
    for student in world.of_model(Student):
        path = reverse("student-erase", args=[student.pk])

        def erases(user_key: str, t: Thing = student) -> bool:
            return has_role(user_key, PRIVACY, t.district)

        yield Probe("student-erase", "get", path, erases, "direct", student)
        yield Probe(
            "student-erase",
            "post",
            path,
            erases,
            "direct",
            student,
            data={"sis_id": student.obj.sis_id},
            echo=(student.obj.sis_id,),
        )


def token_probes(world: TrustWorld) -> Iterator[Probe]:
    path = reverse("api-token")

    def own_credentials(user_key: str) -> dict:
        username = world.users[user_key].username if user_key != "anonymous" else "a_teacher"
        return {"username": username, "password": "pw-for-tests"}

    yield Probe(
        "api-token",
        "post",
        path,
        lambda u: u == "anonymous" or is_member(u),
        "page",
        data=own_credentials,
        content_type="json",
    )
    yield Probe(
        "api-token",
        "post",
        path,
        nobody,
        "body",
        named=(world.thing("b:user:admin"),),
        data={"username": "b_admin", "password": "a-guess"},
        content_type="json",
    )


def signin_probes(world: TrustWorld) -> Iterator[Probe]:
    """Sign-in pages are open to everyone; inviting is for the person's district admin."""
    district_a = world.thing("a:user:teacher").obj.district
    yield Probe(
        "district-login",
        "get",
        reverse("district-login", kwargs={"slug": district_a.slug}),
        everyone,
        "page",
        judge=harness.answered,
        # A district's public sign-in address names the district, to everyone: the address
        # itself (its slug) already says which district it is.
        echo=(district_a.name, world.thing("a:signin").obj.label),
    )
    for route in ("password-reset", "password-reset-done"):
        yield Probe(route, "get", reverse(route), everyone, "page", judge=harness.answered)
    yield Probe(
        "password-reset",
        "post",
        reverse("password-reset"),
        everyone,
        "page",
        data={"email": "nobody@nowhere.example"},
        judge=harness.answered,
    )
    for route in ("password-reset-confirm", "invitation-accept"):
        yield Probe(
            route,
            "get",
            reverse(route, kwargs={"uidb64": "MQ", "token": "not-a-token"}),
            everyone,
            "page",
            judge=harness.answered,
        )
    # Single sign-on: a button of another district is not found at this district's address;
    # a callback no sign-in of this browser started is a 404; the error pages are plain pages.
    provider_b = world.thing("b:signin")
    yield Probe(
        "sso-start",
        "post",
        reverse("sso-start", kwargs={"slug": district_a.slug, "provider_pk": provider_b.pk}),
        nobody,
        "direct",
        provider_b,
    )
    yield Probe(
        "openid_connect_callback",
        "get",
        reverse("openid_connect_callback", kwargs={"provider_id": f"sso-{provider_b.pk}"})
        + "?code=guess&state=guess",
        nobody,
        "direct",
        provider_b,
    )
    for route in ("google_callback", "microsoft_callback"):
        yield Probe(route, "get", reverse(route) + "?code=guess&state=guess", nobody, "page")
    for route in ("socialaccount_login_cancelled", "socialaccount_login_error"):
        yield Probe(route, "get", reverse(route), everyone, "page", judge=harness.answered)
    # Its POST ends the person's sessions, which would sign out the probes that follow; the
    # page is probed here, the POST in tests/classrooms/test_credentials.py.
    yield Probe("sign-out-everywhere", "get", reverse("sign-out-everywhere"), is_member, "page")
    setup_user = lambda u: any_district_role(u, SET_UP)  # noqa: E731
    yield Probe("invitation-send", "get", reverse("invitation-send"), setup_user, "page")
    teacher_b = world.thing("b:user:teacher")
    yield Probe(
        "invitation-send",
        "post",
        reverse("invitation-send"),
        lambda u: sets_up(u, "b"),
        "body",
        teacher_b,
        named=(teacher_b,),
        data={"whom": "person", "person": teacher_b.pk},
    )


# --- The set-up admin ----------------------------------------------------------------------------


def admin_url(model: type[models.Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def admin_pattern_key(model: type[models.Model]) -> str:
    return f"admin/{model._meta.app_label}/{model._meta.model_name}/<path:object_id>/"


def _admin_changelist_ids(model: type[models.Model]) -> Callable[[HttpResponseBase, bytes], set]:
    """The rows a changelist page links to (it shows up to 100 a page; the world has fewer)."""
    prefix = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"

    def rows(response: HttpResponseBase, body: bytes) -> set[int]:
        return {int(pk) for pk in re.findall(re.escape(prefix) + r"(\d+)/change/", body.decode())}

    return rows


def admin_probes(world: TrustWorld) -> Iterator[Probe]:
    setup_user = lambda u: any_district_role(u, SET_UP)  # noqa: E731
    yield Probe("admin:index", "get", reverse("admin:index"), setup_user, "page")
    yield Probe(
        "admin:login", "get", reverse("admin:login"), everyone, "page", judge=harness.answered
    )
    yield Probe(
        "admin:logout", "post", reverse("admin:logout"), everyone, "page", judge=harness.answered
    )
    yield Probe(
        "admin:password_change", "get", reverse("admin:password_change"), setup_user, "page"
    )
    yield Probe(
        "admin:password_change_done",
        "get",
        reverse("admin:password_change_done"),
        setup_user,
        "page",
    )
    yield Probe("admin:jsi18n", "get", reverse("admin:jsi18n"), setup_user, "page")
    yield Probe("javascript-catalog", "get", reverse("javascript-catalog"), everyone, "page")
    yield Probe("admin/(?P<url>.*)$", "get", "/admin/nowhere/", nobody, "page")
    for app_label in ("classrooms", "units", "assessments"):
        yield Probe(
            "admin:app_list", "get", reverse("admin:app_list", args=[app_label]), setup_user, "page"
        )
    student_type = ContentType.objects.get_for_model(Student)
    for student in world.of_model(Student):
        yield Probe(
            "admin:view_on_site",
            "get",
            reverse("admin:view_on_site", args=[student_type.pk, student.pk]),
            nobody,
            "direct",
            student,
        )
    for source, field_name, model in (
        (Enrollment, "student", Student),
        (Enrollment, "classroom", Classroom),
        (ClassroomUnit, "classroom", Classroom),
    ):
        query = (
            f"?app_label={source._meta.app_label}&model_name={source._meta.model_name}"
            f"&field_name={field_name}&term="
        )
        yield Probe(
            "admin:autocomplete",
            "get",
            reverse("admin:autocomplete") + query,
            setup_user,
            "list",
            listing=Listing(
                f"admin-autocomplete:{model.__name__}",
                lambda r, b: {int(item["id"]) for item in json.loads(b)["results"]},
                lambda u, m=model: {
                    t.pk for t in world.of_model(m) if sets_up(u, t.district) and may_read(u, t)
                },
            ),
        )
    for model in site._registry:
        label = f"admin:{model.__name__}"
        may_add = model not in ADMIN_NO_ADD
        yield Probe(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist",
            "get",
            admin_url(model, "changelist"),
            setup_user,
            "list",
            listing=Listing(
                label,
                _admin_changelist_ids(model),
                lambda u, m=model: {t.pk for t in world.of_model(m) if sets_up(u, t.district)},
            ),
        )
        yield Probe(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_add",
            "get",
            admin_url(model, "add"),
            setup_user if may_add else nobody,
            "page",
        )
        things = world.of_model(model)
        first_of_district = [next(t for t in things if t.district == d) for d in ("a", "b")]
        for thing in things:

            def in_setup(user_key: str, t: Thing = thing) -> bool:
                return sets_up(user_key, t.district)

            def deletes(user_key: str, t: Thing = thing, m: Any = model) -> bool:
                return sets_up(user_key, t.district) and m not in ADMIN_NO_DELETE

            name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
            yield Probe(
                f"{name}_change",
                "get",
                admin_url(model, "change", thing.pk),
                in_setup,
                "direct",
                thing,
                reaches=label,
            )
            yield Probe(
                f"{name}_history",
                "get",
                admin_url(model, "history", thing.pk),
                in_setup,
                "direct",
                thing,
            )
            yield Probe(
                f"{name}_delete",
                "get",
                admin_url(model, "delete", thing.pk),
                deletes,
                "direct",
                thing,
            )
            yield Probe(
                f"{name}_delete",
                "post",
                admin_url(model, "delete", thing.pk),
                deletes,
                "direct",
                thing,
                data={"post": "yes"},
            )
            if thing in first_of_district:
                # A bare redirect to the change page, which is tried for every row above.
                yield Probe(
                    admin_pattern_key(model),
                    "get",
                    reverse("admin:index") + f"{model._meta.app_label}/"
                    f"{model._meta.model_name}/{thing.pk}/",
                    in_setup,
                    "direct",
                    thing,
                    follow=True,
                    judge=harness.reached_after_redirects,
                )
            if model in ADMIN_READ_ONLY:
                yield Probe(
                    f"{name}_change",
                    "post",
                    admin_url(model, "change", thing.pk),
                    nobody,
                    "direct",
                    thing,
                    data={"points": "0"},
                    judge=harness.applied,
                )
    for account in world.of_model(User):
        path = reverse("admin:auth_user_password_change", args=[account.pk])
        yield Probe(
            "admin:auth_user_password_change",
            "get",
            path,
            lambda u, t=account: sets_up(u, t.district),
            "direct",
            account,
        )
        yield Probe(
            "admin:auth_user_password_change",
            "post",
            path,
            lambda u, t=account: sets_up(u, t.district),
            "direct",
            account,
            data={"password1": "a-new-Passw0rd-9", "password2": "a-new-Passw0rd-9"},
            judge=harness.applied,
        )


# Admin forms re-posted with another district's rows in them: model, the row whose change form
# is re-posted (district "a"; "b" mirrored) and which fields get the other district's rows.
ADMIN_FOREIGN_FIELDS: list[tuple[type[models.Model], str, dict[str, str | list[str]]]] = [
    (School, "s1", {"coaches": ["coach"]}),
    (Classroom, "c1", {"school": "s1"}),
    (Classroom, "c1", {"term": "term"}),
    (Classroom, "c1", {"teachers": ["teacher"]}),
    (Student, "st1", {"groups": ["group"]}),
    (Enrollment, "enrollment:c1:st1", {"student": "st1"}),
    (Enrollment, "enrollment:c1:st1", {"classroom": "c1"}),
    (ClassroomUnit, "cu1", {"classroom": "c1"}),
    (ClassroomUnit, "cu1", {"unit": "u2"}),
]


def _foreign_value(world: TrustWorld, district: str, local: str | list[str]) -> Any:
    def pk_of(name: str) -> int:
        key = f"{district}:user:{name}" if name in ROLES else f"{district}:{name}"
        return world.thing(key).pk

    if isinstance(local, list):
        return [pk_of(name) for name in local]
    return pk_of(local)


def admin_foreign_probes(world: TrustWorld, forms: dict[str, dict[str, Any]]) -> Iterator[Probe]:
    """Change forms posted back unchanged (allowed for the row's admin: the control) and with
    another district's rows in them (refused to everyone)."""
    for model, local, fields in ADMIN_FOREIGN_FIELDS:
        for district in ("a", "b"):
            other = "b" if district == "a" else "a"
            thing = world.thing(f"{district}:{local}")
            data = forms[thing.key]
            path = admin_url(model, "change", thing.pk)
            name = f"admin:{model._meta.app_label}_{model._meta.model_name}_change"
            yield Probe(
                name,
                "post",
                path,
                lambda u, t=thing: sets_up(u, t.district),
                "direct",
                thing,
                data=data,
                judge=harness.applied,
            )
            foreign = dict(data)
            named = []
            for field_name, value in fields.items():
                foreign[field_name] = _foreign_value(world, other, value)
                values = value if isinstance(value, list) else [value]
                for item in values:
                    key = f"{other}:user:{item}" if item in ROLES else f"{other}:{item}"
                    named.append(world.thing(key))
            yield Probe(
                name,
                "post",
                path,
                nobody,
                "body",
                thing,
                named=tuple(named),
                data=foreign,
                judge=harness.applied,
            )
            # As an add form: a new row whose relations are all the other district's (the
            # fields replaced) or a mix of both (a classroom's school from one district, its
            # term from the other). Only the admin of the other district may save the first.
            add_path = admin_url(model, "add")
            add_name = f"admin:{model._meta.app_label}_{model._meta.model_name}_add"
            only_relation = model in (School, Student)

            def add_allowed(user_key: str, other: str = other, only: bool = only_relation) -> bool:
                return only and sets_up(user_key, other)

            yield Probe(
                add_name,
                "post",
                add_path,
                add_allowed,
                "body",
                None,
                named=tuple(named),
                data=_as_new(model, foreign),
                judge=harness.applied,
            )


def _as_new(model: type[models.Model], data: dict[str, Any]) -> dict[str, Any]:
    """A change form's data as an add form's: unique names made new, inline rows dropped."""
    new = {key: value for key, value in data.items() if "-" not in key}
    for unique in ("name", "sis_id", "code"):
        if unique in new:
            new[unique] = f"{new[unique]} new"
    for key, value in data.items():
        if key.endswith("-TOTAL_FORMS") or key.endswith("-INITIAL_FORMS"):
            new[key] = "0"
        elif key.endswith("-MIN_NUM_FORMS") or key.endswith("-MAX_NUM_FORMS"):
            new[key] = value
    return new


# --- All probes -------------------------------------------------------------------------------


def all_probes(world: TrustWorld, admin_forms: dict[str, dict[str, Any]]) -> list[Probe]:
    generators: list[Iterator[Probe]] = [
        api_probes(world),
        unit_write_probes(world),
        classroom_unit_write_probes(world),
        planner_probes(world),
        score_page_probes(world),
        score_bulk_probes(world),
        score_csv_post_probes(world),
        export_probes(world),
        page_probes(world),
        roster_probes(world),
        roster_import_probes(world),
        privacy_probes(world),
        token_probes(world),
        signin_probes(world),
        admin_probes(world),
        admin_foreign_probes(world, admin_forms),
    ]
    return [probe for generator in generators for probe in generator]


def route_keys() -> set[str]:
    """Every route of the URL configuration: its namespaced name, or its pattern if unnamed."""
    keys: set[str] = set()

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern.url_patterns, route, inner)
            elif isinstance(pattern, URLPattern):
                if pattern.name:
                    keys.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
                else:
                    keys.add(route)

    walk(get_resolver().url_patterns, "", "")
    return keys


def collect_admin_forms(world: TrustWorld) -> dict[str, dict[str, Any]]:
    """The change forms the foreign-id probes re-post, read as each district's admin sees them."""
    forms = {}
    for model, local, _fields in ADMIN_FOREIGN_FIELDS:
        for district in ("a", "b"):
            thing = world.thing(f"{district}:{local}")
            if thing.key in forms:
                continue
            client = harness.session_client(world, f"{district}:admin")
            response = client.get(admin_url(model, "change", thing.pk))
            assert response.status_code == 200, (thing.key, response.status_code)
            forms[thing.key] = harness.admin_form_data(response)
    return forms
