"""``manage.py retention_purge [--dry-run] [--district ID]``: purge learner data past retention.

Every district with a retention period (``District.retention_years``; empty keeps everything),
or only ``--district ID``. The rules live in reports/privacy.py; this command reads options,
calls ``retention_purge`` as the server operator (the audit log names it so) and prints what was
deleted per district. ``--dry-run`` prints what would be deleted and changes nothing.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from classrooms.models import District
from reports.privacy import retention_purge


class Command(BaseCommand):
    help = (
        "Delete scores, score history, growth rows, enrollments and students older than each "
        "district's retention period. Each district's purge is all or nothing and audited."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--district", type=int, help="Id of one district (default: every district)."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only print what would be deleted; change nothing and record nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        district_id = options["district"]
        if district_id is not None:
            # cross-tenant: the server operator names the district explicitly.
            district = District.objects.all_schools().filter(pk=district_id).first()
            if district is None:
                raise CommandError(f"There is no district with id {district_id}.")
            if district.retention_years is None:
                raise CommandError(f"{district} has no retention period: it keeps its data.")
        results = retention_purge(district_id=district_id, dry_run=options["dry_run"])
        if not results:
            self.stdout.write("No district has a retention period: nothing to purge.")
        verb = "would delete" if options["dry_run"] else "deleted"
        for result in results:
            self.stdout.write(
                f"{result.district_name} (#{result.district_id}), keeping "
                f"{result.retention_years} years, data of units that ended before "
                f"{result.cutoff:%Y-%m-%d}: {verb} {result.counts.described()}."
            )
        if options["dry_run"]:
            self.stdout.write(self.style.SUCCESS("Dry run: nothing was changed."))
        else:
            self.stdout.write(self.style.SUCCESS("Done; each purge is in the audit log."))
