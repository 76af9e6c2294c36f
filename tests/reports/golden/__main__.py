"""Write the golden statements again (see tests/reports/golden/__init__.py)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
django.setup()

from tests.reports.golden import KINDS, SHAPES, generated, golden_path  # noqa: E402

for assessments, skills in SHAPES:
    for kind in KINDS:
        path = golden_path(kind, assessments, skills)
        path.write_text(generated(kind, assessments, skills))
        print(f"wrote {path}")
