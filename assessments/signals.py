"""What the scores app tells the apps above it, without importing them.

The layers point one way (classrooms ← units ← assessments ← reports), so a score save cannot
call the growth reports that depend on it. It sends ``scores_changed`` instead, once per saved
batch and only after the batch's transaction commits, with ``classroom_unit_id``: the classroom
unit whose scores changed. The reports app connects a receiver in its ``AppConfig.ready`` that
marks that unit's growth stale (reports/receivers.py).
"""

from django.dispatch import Signal

scores_changed = Signal()
