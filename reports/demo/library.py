"""The demo's unit library beyond the district's shared units: a finished unit whose plan was
changed afterwards (version 2; the finished classes keep version 1, exactly as they were
scored), and a unit the demo teacher wrote by using that one again, carrying the reflection they
left on their finished class. Every write goes through the units services, as a person's would.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from classrooms.models import District, User
from units.library import classroom_unit_reflect, unit_copy, unit_share
from units.models import AssessmentKind, ClassroomUnit
from units.services import AssessmentSpec, MeasureSpec, plan_of, unit_plan_save

REFLECTION = "The second skill needed two more weeks; start the checkpoint earlier."


def unit_library_seed(
    *, district: District, admin: User, teacher_username: str, finished_on: datetime.date
) -> None:
    """Version 2 of the demo teacher's finished unit, their reflection on it, and their own copy
    shared with their school. Does nothing when the teacher teaches no finished unit."""
    finished = (
        ClassroomUnit.objects.filter(
            classroom__school__district=district,
            classroom__teachers__username=teacher_username,
            start_date=finished_on,
        )
        .select_related("unit", "classroom")
        .order_by("pk")
        .first()
    )
    if finished is None:
        return
    teacher = User.objects.get(username=teacher_username)
    unit = finished.unit
    plan = plan_of(unit)
    first_skill = plan.skills[0].code
    late_check = AssessmentSpec(
        kind=AssessmentKind.FORMATIVE,
        week=unit.weeks - 1,
        title="Late check",
        measures=(MeasureSpec(skill_code=first_skill, max_points=Decimal("4")),),
    )
    if len([a for a in plan.assessments if a.kind == AssessmentKind.FORMATIVE]) < (
        district.formative_cap
    ):
        plan = type(plan)(
            weeks=plan.weeks, skills=plan.skills, assessments=(*plan.assessments, late_check)
        )
        unit_plan_save(actor=admin, unit=unit, plan=plan)
    classroom_unit_reflect(actor=teacher, classroom_unit=finished, reflection=REFLECTION)
    own = unit_copy(actor=teacher, unit=unit)
    unit_share(actor=teacher, unit=own, audience="school", shared=True)
