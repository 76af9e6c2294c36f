"""Demo and benchmark data: one realistic district with a fall term of thin-slice scores.

``manage.py seed_demo`` (reports/management/commands/seed_demo.py) calls ``demo_district_seed``;
``make run`` seeds with ``--if-empty`` and the benchmarks with ``--students N``. It lives in
reports, the top layer, because it writes through every app: people, plans, scores.

The rules the generated district follows:

- Calendar: academic year 2026–27 (2026-08-17 to 2027-06-11) with a Fall and a Spring term. The
  data is a snapshot as of Monday 2026-11-23 (``SNAPSHOT_DATE``), hard-coded so the same seed
  always gives the same rows whatever day the command runs.
- Schools: at least 3, one per ~200 students for small districts, growing with the square root
  of the student count for large ones (100 000 students give about 50 schools).
- Grades 3 to 5. Each grade of a school is split into homerooms of about 25 students; a homeroom
  teacher teaches its Math and its ELA section (a Fall classroom each), so every student sits in
  one Math and one ELA classroom of their grade. One learning-support teacher per school
  co-teaches about a tenth of its classrooms. One coach per two schools, one district admin.
- Student groups: English learners (~15%), students with IEPs (~12%) and economically
  disadvantaged students (~40%), with modest average gaps so equity reports have something to
  show.
- Units, built through ``units.services.unit_plan_save``: per subject and grade, one completed
  unit (from 2026-09-07) and one in progress (from 2026-10-26, in its week 5 on the snapshot
  date). Each has a pre-assessment in week 1, checkpoints in weeks 3 and 5 and a
  post-assessment in week 8; an assessment has scores once its due week has ended.
- Scores: a student's level on a skill is their latent ability plus their growth rate times the
  progress through the unit, plus classroom, unit, skill and noise terms, rounded to half
  points within 0..max. Most students grow; some start at the ceiling (pre ≥ 90%), some
  decline a little, a few join late (no scores before they enrolled). About 3% of student ×
  assessment results are absent and 1% of skill scores exempt.
- Randomness comes only from ``random.Random(seed)`` and generators derived from it, drawn in a
  fixed order, so the same seed gives the same students and scores every time.

Rows are bulk-inserted one school at a time so memory stays bounded: rows that need their ids
back through ``bulk_create``, the rest (enrollments, memberships, scores) by PostgreSQL's COPY.

One module per job: shape.py (every number above), people.py (calendar, schools, staff,
students, homerooms, classrooms, logins), plans.py (units), scores.py, rows.py (bulk writing),
seeding.py (the order of it all, in one transaction).
"""

from reports.demo.people import DemoLogin, demo_login_list, demo_school_count, demo_username_prefix
from reports.demo.seeding import demo_district_seed, district_exists_any
from reports.demo.shape import DEMO_DISTRICT_NAME, DEMO_PASSWORD, DEMO_URL, MIN_STUDENTS

__all__ = [
    "DEMO_DISTRICT_NAME",
    "DEMO_PASSWORD",
    "DEMO_URL",
    "MIN_STUDENTS",
    "DemoLogin",
    "demo_district_seed",
    "demo_login_list",
    "demo_school_count",
    "demo_username_prefix",
    "district_exists_any",
]
