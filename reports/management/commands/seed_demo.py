"""``manage.py seed_demo``: create a demo district (or a big one to benchmark) and print its logins.

The rules of the generated data live in reports/demo/; this command only reads options,
calls ``demo_district_seed`` (one transaction, all or nothing) and prints the result.
"""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from classrooms.models import District
from reports import services as growth_services
from reports.demo import (
    DEMO_DISTRICT_NAME,
    DEMO_PASSWORD,
    DEMO_URL,
    DemoLogin,
    demo_district_seed,
    demo_login_list,
    demo_username_prefix,
    district_exists_any,
)


class Command(BaseCommand):
    help = (
        "Create a demo district with schools, staff, students, units and a fall term of scores, "
        "then print the logins. The same --seed always gives the same data."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--students", type=int, default=600, help="How many students (default 600)."
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed; the same seed gives the same data."
        )
        parser.add_argument(
            "--district",
            default=DEMO_DISTRICT_NAME,
            help=(
                f"District name (default '{DEMO_DISTRICT_NAME}'). Other names prefix the demo "
                "usernames with a slug of the name, e.g. 'northfield-admin'."
            ),
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (but print the logins) when any district exists already.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        district_name: str = options["district"]
        try:
            username_prefix = demo_username_prefix(district_name)
            if options["if_empty"] and district_exists_any():
                self.stdout.write("A district exists already, so --if-empty seeds nothing.")
                logins = demo_login_list(username_prefix=username_prefix, password=DEMO_PASSWORD)
            else:
                self.stdout.write(
                    f"Seeding '{district_name}' with {options['students']} students "
                    f"(seed {options['seed']})…"
                )
                logins = demo_district_seed(
                    name=district_name,
                    students=options["students"],
                    seed=options["seed"],
                    username_prefix=username_prefix,
                    password=DEMO_PASSWORD,
                    on_progress=self.stdout.write,
                )
                self._growth_build(district_name)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self._logins_print(logins)
        self.stdout.write(f"Elapsed: {time.perf_counter() - started:.1f} s")

    def _growth_build(self, district_name: str) -> None:
        """Build the demo's growth summaries now, so report pages have data at first login."""
        district = District.objects.get(name=district_name)
        for result in growth_services.growth_rebuild(district_id=district.pk):
            self.stdout.write(
                f"Growth summaries built: {result.student_rows} student rows, "
                f"{result.summary_rows} summary rows."
            )

    def _logins_print(self, logins: list[DemoLogin]) -> None:
        if not logins:
            self.stdout.write("No demo logins of this district were found.")
            return
        rows = [
            ("Role", "Username", "Password"),
            *((x.role, x.username, x.password) for x in logins),
        ]
        widths = [max(len(row[column]) for row in rows) for column in range(3)]
        self.stdout.write("")
        for row in rows:
            self.stdout.write(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
        self.stdout.write(f"\nSign in at {DEMO_URL}")
