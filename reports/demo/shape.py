"""The shape of the demo district: its logins, calendar, sizes, shares and score distribution.

Every number the generated data follows is here, so the rules in the package docstring can be
checked (and tuned) in one place. The calendar is hard-coded: the data is a snapshot as of
``SNAPSHOT_DATE`` whatever day the command runs.
"""

from __future__ import annotations

import datetime

DEMO_DISTRICT_NAME = "Riverbend Unified"
DEMO_PASSWORD = "thinslice-demo"  # noqa: S105 -- a published demo password, never a real one
DEMO_URL = "http://127.0.0.1:8000/"
MIN_STUDENTS = 30

ACADEMIC_YEAR = ("2026–27", datetime.date(2026, 8, 17), datetime.date(2027, 6, 11))
FALL_TERM = ("Fall", datetime.date(2026, 8, 17), datetime.date(2027, 1, 15))
SPRING_TERM = ("Spring", datetime.date(2027, 1, 19), datetime.date(2027, 6, 11))
COMPLETED_UNIT_START = datetime.date(2026, 9, 7)
CURRENT_UNIT_START = datetime.date(2026, 10, 26)
LATE_ENROLLMENT_START = datetime.date(2026, 10, 5)
SNAPSHOT_DATE = datetime.date(2026, 11, 23)
UNIT_WEEKS = 8
CHECKPOINT_WEEKS = (3, 5)
PRE_POST_MAX_POINTS = (4, 5, 6, 10)
CHECKPOINT_MAX_POINTS = (4, 5, 6)

GRADES = ("3", "4", "5")
SUBJECTS = ("Math", "ELA")
CLASS_SIZE = 25
STUDENTS_PER_SMALL_SCHOOL = 200
SCHOOLS_PER_COACH = 2
CO_TEACHING_SHARE = 0.10
LATE_JOINER_SHARE = 0.02
CEILING_SHARE = 0.05
DECLINING_SHARE = 0.06
ABSENT_SHARE = 0.03
EXEMPT_SHARE = 0.01

# Fractions of max points: an average student starts near half marks and gains about a quarter.
MEAN_ABILITY = 0.47
ABILITY_SPREAD = 0.14
MEAN_GROWTH = 0.24
GROWTH_SPREAD = 0.11
CLASSROOM_ABILITY_SPREAD = 0.03
CLASSROOM_GROWTH_SPREAD = 0.07
UNIT_SHIFT_SPREAD = 0.04
SKILL_DIFFICULTY_SPREAD = 0.05
SCORE_NOISE = 0.07

SECONDS_PER_STUDENT_ENTRY = 20
