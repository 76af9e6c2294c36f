"""``manage.py oneroster_import PATH --district ID [--dry-run]``: import a OneRoster 1.1 export.

PATH is a folder holding the CSV files or a .zip of them. The rules live in
classrooms/oneroster/; this command only reads options, calls ``roster_import`` as the server
operator (the audit log names it so) and prints the plan, warnings and problems. It exits with
an error when the export has problems, and then nothing was changed.
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from classrooms.models import District
from classrooms.oneroster import RosterImportResult, roster_import, roster_source_from_path


class Command(BaseCommand):
    help = (
        "Import a OneRoster 1.1 CSV export (a folder or a .zip) into a district: schools, terms, "
        "classrooms, students, teachers and enrollments, keyed by sourcedId. All or nothing."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "path", help="A folder holding manifest.csv and the other files, or a .zip."
        )
        parser.add_argument(
            "--district", type=int, required=True, help="Id of the district to import into."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only report what would change (creates, updates, deactivations) and problems.",
        )
        parser.add_argument(
            "--confirm-district",
            action="store_true",
            help="Import even though the export's district org is not this district's.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # cross-tenant: the server operator names the district explicitly.
        district = District.objects.all_schools().filter(pk=options["district"]).first()
        if district is None:
            raise CommandError(f"There is no district with id {options['district']}.")
        source = roster_source_from_path(path=Path(options["path"]))
        result = roster_import(
            actor=None,
            district=district,
            source=source,
            dry_run=options["dry_run"],
            confirm_district=options["confirm_district"],
        )
        self._report(district, result)
        if result.problems:
            noun = "problem" if len(result.problems) == 1 else "problems"
            raise CommandError(f"{len(result.problems)} {noun}: nothing was changed.")

    def _report(self, district: District, result: RosterImportResult) -> None:
        heading = "Dry run" if result.dry_run else "Import"
        self.stdout.write(f"{heading} into {district} ({result.row_count} rows read)")
        if result.modes:
            modes = ", ".join(f"{file} {mode}" for file, mode in sorted(result.modes.items()))
            self.stdout.write(f"Files: {modes}")
        if not result.problems:
            self.stdout.write(
                f"{'':22}{'create':>8}{'update':>8}{'deactivate':>12}{'unchanged':>11}{'skip':>6}"
            )
            for counts in result.counts.values():
                self.stdout.write(
                    f"{counts.label:22}{counts.creates:>8}{counts.updates:>8}"
                    f"{counts.deactivations:>12}{counts.unchanged:>11}{counts.skipped:>6}"
                )
        if result.district_mismatch and result.dry_run:
            self.stdout.write(
                self.style.WARNING(f"{result.district_mismatch} (--confirm-district imports it.)")
            )
        for warning in result.warnings:
            self.stdout.write(self.style.WARNING(f"Note: {warning}"))
        for problem in result.problems:
            self.stderr.write(self.style.ERROR(f"Problem: {problem}"))
        summary = result.summary()
        style = self.style.ERROR if result.problems else self.style.SUCCESS
        self.stdout.write(style(summary))
