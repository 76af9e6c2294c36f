"""Write the golden statements again (see tests/reports/golden/__init__.py)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
django.setup()

from reports.growth_build.statements import SUMMARY_LEVELS  # noqa: E402
from tests.reports.golden import (  # noqa: E402
    KINDS,
    SHAPES,
    generated,
    golden_path,
    summaries_write_generated,
    summaries_write_path,
)

for assessments, skills in SHAPES:
    for kind in KINDS:
        path = golden_path(kind, assessments, skills)
        path.write_text(generated(kind, assessments, skills))
        print(f"wrote {path}")
for level in SUMMARY_LEVELS:
    path = summaries_write_path(level)
    path.write_text(summaries_write_generated(level))
    print(f"wrote {path}")
