"""Moving a running class to the newest version of its unit plan.

A plan with scores under it is frozen: editing it makes a new version (units/services.py), and
each class keeps the version it started with. A teacher may move a class onto the new version
when every score entered in it has a place there (same assessment title and kind, same skill
code, max points at or above the score); otherwise the move is refused with the reasons and
nothing changes. The scores move with the class; their history rows stay as they were written,
under the version they were entered in.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from assessments.models import Score
from assessments.signals import scores_changed
from classrooms import access
from units.models import ClassroomUnit
from units.services import classroom_unit_version_move_plan, unit_latest_version


@transaction.atomic
def classroom_unit_version_move(*, actor: Any, classroom_unit: ClassroomUnit) -> ClassroomUnit:
    """Move ``classroom_unit`` onto its unit's latest version, with its scores, or refuse."""
    access.require(actor, "teach", classroom_unit.classroom)
    locked = (
        ClassroomUnit.objects.select_for_update(of=("self",))
        .select_related("unit", "classroom")
        .get(pk=classroom_unit.pk)
    )
    target = unit_latest_version(locked.unit)
    if target.pk == locked.unit_id:
        raise ValidationError(
            _("This class already follows the latest version (version %(version)s).")
            % {"version": target.version}
        )
    move = classroom_unit_version_move_plan(classroom_unit=locked, target=target)
    if move.problems:
        raise ValidationError(move.problems)
    for old_measure_id, new_measure_id in move.measure_map.items():
        Score.objects.filter(classroom_unit=locked, assessment_skill_id=old_measure_id).update(
            assessment_skill_id=new_measure_id
        )
    locked.unit = target
    locked.save(update_fields=["unit"])
    transaction.on_commit(partial(scores_changed.send, sender=Score, classroom_unit_id=locked.pk))
    return locked
