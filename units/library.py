"""A unit library: sharing units, using them again (copies with last time's reflections), a
class's one-line reflection, and rolling the district's shared units over to a new school year.

Who may do what is asked of classrooms/access.py (``write_units``, ``edit_unit``, ``use_unit``,
``manage_district``); the plan rules stay in units/services.py, which every copy is saved
through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from classrooms import access
from classrooms.models import AcademicYear, District
from units.models import REFLECTION_MAX_LENGTH, ClassroomUnit, Unit, UnitLineage
from units.services import plan_of, plan_without_ids, unit_latest_version, unit_plan_save

Audience = Literal["district", "school"]


@transaction.atomic
def unit_share(*, actor: Any, unit: Unit, audience: Audience, shared: bool) -> UnitLineage:
    """Share a unit (or stop sharing it).

    ``district``: a district admin publishes it for every teacher, who may start it or adapt a
    copy but never edit it. ``school``: its author lets colleagues of their schools use it.
    """
    lineage = UnitLineage.objects.select_for_update().get(pk=unit.lineage_id)
    if audience == "district":
        access.require(actor, "manage_district", lineage)
        lineage.is_shared = shared
        lineage.save(update_fields=["is_shared"])
    else:
        access.require(actor, "edit_unit", lineage)
        lineage.is_shared_in_school = shared
        lineage.save(update_fields=["is_shared_in_school"])
    return lineage


def _reflections_of(lineage: UnitLineage) -> list[str]:
    """The lines carried into a copy: those the source carried, then its classes' own."""
    lines = [line for line in lineage.carried_reflections.splitlines() if line.strip()]
    lines += [
        reflection
        for reflection in ClassroomUnit.objects.filter(unit__lineage=lineage)
        .exclude(reflection="")
        .order_by("start_date", "pk")
        .values_list("reflection", flat=True)
    ]
    return list(dict.fromkeys(line.strip() for line in lines))


@transaction.atomic
def unit_copy(
    *,
    actor: Any,
    unit: Unit,
    academic_year: AcademicYear | None = None,
    share: bool = False,
    author: Any = None,
) -> Unit:
    """ "Use again": a new unit of ``actor``'s own from the latest version of ``unit``.

    The source is one the person may use (theirs, a colleague's shared with their school, the
    district's); the copy keeps the plan, starts at version 1, remembers where it came from and
    carries the reflections left on the source, which the planner shows.
    """
    source = UnitLineage.objects.get(pk=unit.lineage_id)
    access.require(actor, "use_unit", source)
    latest = unit_latest_version(unit)
    copy = Unit(
        district_id=latest.district_id,
        title=latest.title,
        subject=latest.subject,
        grade_level=latest.grade_level,
    )
    saved = unit_plan_save(
        actor=actor,
        unit=copy,
        plan=plan_without_ids(plan_of(latest)),
        share=share,
        academic_year=academic_year,
    )
    lineage = saved.lineage
    lineage.copied_from = source
    lineage.carried_reflections = "\n".join(_reflections_of(source))
    lineage.author = author if author is not None else lineage.author
    lineage.save(update_fields=["copied_from", "carried_reflections", "author"])
    return saved


@transaction.atomic
def classroom_unit_reflect(
    *, actor: Any, classroom_unit: ClassroomUnit, reflection: str
) -> ClassroomUnit:
    """Keep the teacher's one line about how the unit went (empty clears it)."""
    access.require(actor, "teach", classroom_unit.classroom)
    text = " ".join(reflection.split())
    if len(text) > REFLECTION_MAX_LENGTH:
        raise ValidationError(
            _("A reflection is one line of at most %(limit)s characters (this one has %(n)s).")
            % {"limit": REFLECTION_MAX_LENGTH, "n": len(text)}
        )
    classroom_unit.reflection = text
    classroom_unit.save(update_fields=["reflection"])
    return classroom_unit


@dataclass(frozen=True)
class RolloverLine:
    """One shared unit of the old year: created in the new year, or already there."""

    title: str
    source_id: int
    is_new: bool


@transaction.atomic
def units_roll_over(
    *,
    actor: Any,
    district: District,
    from_year: AcademicYear,
    to_year: AcademicYear,
    dry_run: bool,
) -> list[RolloverLine]:
    """Copy the district's shared units of ``from_year`` into ``to_year``, shared there too.

    Running it again changes nothing (a unit already copied into the new year is listed as
    already there). With ``dry_run`` nothing is written: the list says what would be created.
    """
    access.require(actor, "manage_district", district)
    for year in (from_year, to_year):
        if year.district_id != district.pk:
            raise ValidationError(_("This school year belongs to another district."))
    if from_year.pk == to_year.pk:
        raise ValidationError(_("Choose a different school year to roll the units over to."))
    sources = UnitLineage.objects.filter(
        district=district, academic_year=from_year, is_shared=True
    ).order_by("pk")
    already = set(
        UnitLineage.objects.filter(
            district=district, academic_year=to_year, copied_from__in=sources
        ).values_list("copied_from_id", flat=True)
    )
    lines = []
    for source in sources:
        latest = source.versions.order_by("-version").first()
        if latest is None:
            continue
        is_new = source.pk not in already
        lines.append(RolloverLine(title=latest.title, source_id=source.pk, is_new=is_new))
        if is_new and not dry_run:
            unit_copy(
                actor=actor,
                unit=latest,
                academic_year=to_year,
                share=True,
                author=source.author,
            )
    return lines
