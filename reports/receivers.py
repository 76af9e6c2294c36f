"""Receivers of the signals the lower apps send; connected in ``ReportsConfig.ready``.

Each only calls a reports service: the rule lives in the service, the receiver is the wire.
"""

from __future__ import annotations

from typing import Any

from reports import services


def growth_mark_stale_on_scores_changed(sender: Any, *, classroom_unit_id: int, **_: Any) -> None:
    """``assessments.signals.scores_changed``: the unit's growth is stale, queue its rebuild."""
    services.classroom_unit_growth_mark_stale(classroom_unit_id=classroom_unit_id)
