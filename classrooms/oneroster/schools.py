"""orgs.csv: orgs of type ``school`` become Schools (code = ``identifier``, else the sourcedId).
Districts, departments and other org types are only checked, not stored. A school marked
``tobedeleted`` is kept (an active class may not point at one)."""

from __future__ import annotations

from dataclasses import dataclass, field

from classrooms.models import School
from classrooms.oneroster import values
from classrooms.oneroster.reading import Row
from classrooms.oneroster.results import Action
from classrooms.oneroster.spec import ORG_TYPES, ORGS
from classrooms.oneroster.state import Item, PlanState


@dataclass
class Orgs:
    """The orgs of orgs.csv whose rows could be read: each one's type, and the schools marked
    tobedeleted."""

    types: dict[str, str] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    districts: list[Row] = field(default_factory=list)


def plan_schools(state: PlanState) -> Orgs:
    """Plan a School for each school row of orgs.csv; check every other org."""
    orgs = Orgs()
    codes: dict[str, int] = {}
    names: dict[str, int] = {}
    for row in state.rows(ORGS):
        org_type = values.choice(state.problems, row, "type", ORG_TYPES, "org type")
        is_active = values.status_is_active(state.problems, row)
        if org_type is None or is_active is None:
            continue
        orgs.types[row["sourcedId"]] = org_type
        if org_type == "district" and is_active:
            orgs.districts.append(row)
        if org_type != "school":
            continue
        sourced_id = row["sourcedId"]
        existing = state.existing.by_sourced_id["schools"].get(sourced_id)
        if not is_active:
            orgs.deleted.add(sourced_id)
            if existing is None:
                state.skip_note(row, "schools marked tobedeleted that were never imported")
            action: Action = "unchanged" if existing is not None else "skip"
            state.items["schools"][sourced_id] = Item(
                "schools", sourced_id, row, existing, action=action
            )
            continue
        name = values.text(state.problems, row, "name", max_length=200)
        code_column = "identifier" if row["identifier"] else "sourcedId"
        code = values.text(state.problems, row, code_column, max_length=40)
        if state.first_seen(codes, code.lower(), row, code_column, "school code"):
            continue
        if state.first_seen(names, name.lower(), row, "name", "school name"):
            continue
        existing = state.adopt(
            row,
            "schools",
            existing,
            [
                ("code", code_column, state.existing.schools_by_code.get(code.lower())),
                ("name", "name", state.existing.schools_by_name.get(name.lower())),
            ],
        )
        state.set_item(
            row,
            "schools",
            existing,
            School,
            {"district_id": state.district.pk, "name": name, "code": code},
            {},
            columns={"name": "name", "code": code_column},
        )
    return orgs


def school_reference(
    state: PlanState, orgs: Orgs, row: Row, column: str, sourced_id: str
) -> Item | None:
    """The live school ``sourced_id`` (in ``column`` of ``row``) names; anything else (blank,
    an org that is not a school, a school marked tobedeleted, no such org) is a problem."""
    if not sourced_id:
        state.problem(row, column, "this value is required.")
        return None
    org_type = orgs.types.get(sourced_id)
    if org_type is not None and org_type != "school":
        state.problem(row, column, f"'{sourced_id}' is a {org_type}, not a school.")
        return None
    item = state.reference(row, column, "schools", sourced_id, ORGS, "school")
    if item is not None and sourced_id in orgs.deleted:
        state.problem(row, column, f"the school '{sourced_id}' is marked tobedeleted.")
        return None
    return item
