"""The right district: the district organisation of orgs.csv (type ``district``) is compared with
the district the import goes into, so another district's export is not imported without a word.

The file's district matches when its sourcedId is the one recorded by an earlier import, or,
while none is recorded, when its name is the district's name (letter case, spacing and
punctuation aside) or its identifier is the recorded identifier. A file without a district org
cannot be compared and says so in a note. A mismatch is not a problem of the file: the dry run
shows it with the plan, and the import is refused unless the district admin confirms it. An
applied import records the file's district sourcedId and identifier, so later imports of the same
system match by sourcedId whatever the district is called there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from classrooms.models import District
from classrooms.oneroster.reading import Row
from classrooms.oneroster.results import RosterProblem
from classrooms.oneroster.spec import ORGS


@dataclass(frozen=True)
class FileDistrict:
    """The district organisation an export names (its row in orgs.csv)."""

    sourced_id: str
    name: str
    identifier: str
    line: int

    def describe(self) -> str:
        parts = [f"sourcedId {self.sourced_id}"]
        if self.identifier:
            parts.insert(0, f"identifier {self.identifier}")
        return f"'{self.name}' ({', '.join(parts)})"


def _normalised(name: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", name.casefold()).split())


def file_district_of(rows: list[Row]) -> FileDistrict | None:
    """The first live district org of orgs.csv (``rows``: its rows of type district)."""
    for row in rows:
        return FileDistrict(
            sourced_id=row["sourcedId"],
            name=" ".join(row["name"].split()),
            identifier=row["identifier"],
            line=row.line,
        )
    return None


def district_matches(district: District, found: FileDistrict) -> bool:
    if district.oneroster_sourced_id:
        return found.sourced_id == district.oneroster_sourced_id
    if district.oneroster_identifier and found.identifier == district.oneroster_identifier:
        return True
    return _normalised(found.name) == _normalised(district.name)


def district_mismatch_message(district: District, found: FileDistrict) -> str:
    """Why the export looks like another district's, in words the district admin can act on."""
    recorded = ""
    if district.oneroster_sourced_id:
        recorded = (
            f" Earlier imports into {district.name} came from the district org with sourcedId "
            f"{district.oneroster_sourced_id}."
        )
    return (
        f"This export is for the district {found.describe()} (orgs.csv line {found.line}), "
        f"not {district.name}.{recorded} Import it only if it really is {district.name}'s roster."
    )


def no_district_note() -> RosterProblem:
    return RosterProblem(
        ORGS,
        None,
        "type",
        "orgs.csv has no org of type district, so the import cannot check that the file is "
        "this district's.",
    )


def district_record(district: District, found: FileDistrict | None) -> list[str]:
    """Record the file's district org on ``district`` (inside the import's transaction); the
    fields that changed."""
    if found is None:
        return []
    changed = []
    if district.oneroster_sourced_id != found.sourced_id:
        district.oneroster_sourced_id = found.sourced_id
        changed.append("oneroster_sourced_id")
    if district.oneroster_identifier != found.identifier:
        district.oneroster_identifier = found.identifier
        changed.append("oneroster_identifier")
    if changed:
        district.save(update_fields=[*changed, "updated_at"])
    return changed
