"""``manage.py growth_rebuild [--district ID]``: the set-based full rebuild of growth rows.

Runs the same service as the periodic task (reports.services.growth_rebuild), in this process,
and prints when each district's rows were built and how many were written. A district that
fails is reported and the others are rebuilt all the same; the command then exits with an
error.
"""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from classrooms.models import District
from reports import services


class Command(BaseCommand):
    help = (
        "Rebuild every student growth row and growth summary from scores, one transaction per "
        "district (all districts unless --district is given)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--district", type=int, help="Rebuild only this district (its id).")

    def handle(self, *args: Any, **options: Any) -> None:
        district_id: int | None = options["district"]
        # cross-tenant: an operator's command; it only checks that the district exists.
        if (
            district_id is not None
            and not District.objects.all_schools().filter(pk=district_id).exists()
        ):
            raise CommandError(f"No district with id {district_id}.")
        started = time.perf_counter()
        results = services.growth_rebuild(district_id=district_id)
        for result in results:
            if result.error is not None or result.built_at is None:
                self.stderr.write(
                    f"District {result.district_id}: not rebuilt: "
                    f"{type(result.error).__name__}: {result.error}"
                )
                continue
            self.stdout.write(
                f"District {result.district_id}: built at {result.built_at:%Y-%m-%d %H:%M:%S %Z}, "
                f"{result.classroom_units} classroom units, {result.student_rows} student rows, "
                f"{result.summary_rows} summary rows."
            )
        if not results:
            self.stdout.write("No district to rebuild.")
        self.stdout.write(f"Elapsed: {time.perf_counter() - started:.2f} s")
        failed = [result.district_id for result in results if result.error is not None]
        if failed:
            raise CommandError(
                f"{len(failed)} of {len(results)} districts were not rebuilt "
                f"({', '.join(map(str, failed))}); the others were. See the messages above."
            )
