"""Report rows for the growth pages, read from stored summaries only (never from scores).

Every selector starts from ``visible_to(user)``, so a coach sees their schools, a teacher their
own classrooms and a district admin the district. A school × unit roll-up is shown only to
someone who sees every classroom unit it adds up: otherwise a teacher could subtract their own
classroom from the school and read another teacher's class. Each selector runs a fixed number
of queries, whatever the number of students.

Rows are ordered by name (classrooms, students) or by code (skills), never by growth: the pages
show growth, they do not rank students or teachers. Definitions: reports/growth/.

One module a page: rows.py (a stored summary row as shown, build status), home.py,
school.py, classroom_unit.py, school_unit.py (the skill and group views of a unit in a school).
"""

from reports.selectors.classroom_unit import ClassroomUnitGrowth, classroom_unit_growth
from reports.selectors.home import ReportsHome, reports_home
from reports.selectors.rows import BuildStatus, Summary, summary_of
from reports.selectors.school import SchoolGrowth, school_growth
from reports.selectors.school_unit import (
    SchoolUnitGroups,
    SchoolUnitSkills,
    school_unit_groups,
    school_unit_skills,
)

__all__ = [
    "BuildStatus",
    "ClassroomUnitGrowth",
    "ReportsHome",
    "SchoolGrowth",
    "SchoolUnitGroups",
    "SchoolUnitSkills",
    "Summary",
    "classroom_unit_growth",
    "reports_home",
    "school_growth",
    "school_unit_groups",
    "school_unit_skills",
    "summary_of",
]
