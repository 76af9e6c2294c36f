"""The simulated users of the load benchmark (Locust): started by ``python -m bench.load``.

    teachers  enter scores in their own class (the bulk-save API the grid uses: a few cells, or
              the whole class), open the score grid and their class's growth report;
    coaches   read the growth reports of the schools they coach (home, school, skills, groups,
              a classroom drill-down);
    admins    export (scores of a school, streamed or as a job; scores of the whole district as
              a job, followed to its file; aggregate growth, streamed).

bench/load.py writes the fixtures (accounts, tokens, ids, the cells each teacher writes and
their current values) to the file named by LOAD_FIXTURES; this module writes every request
(endpoint, milliseconds, status, whether it was as expected, when it started), every
acknowledged score write
and every export job it started to LOAD_OUTPUT when Locust quits. Each teacher writes cells no
one else writes, so an acknowledged write can be checked exactly afterwards.

Pages need a session: the users sign in through the login form. Production settings mark the
session and CSRF cookies Secure, which an HTTP client does not send back over plain HTTP on
loopback, so the users send them back themselves, in a Cookie header.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

FIXTURES: dict[str, Any] = json.loads(Path(os.environ["LOAD_FIXTURES"]).read_text())
PASSWORD = FIXTURES["password"]
# A teacher moves each cell one step along this ladder per write, so every write changes it.
VALUE_LADDER = ("1", "1.5", "2", "2.5")

REQUESTS: list[list[Any]] = []  # [endpoint, ms, status, as expected, started (epoch s)]
ACKNOWLEDGED: list[list[Any]] = []  # [classroom unit, assessment, student, skill, version, value]
JOBS: list[int] = []
_classes = itertools.count()


@events.request.add_listener
def _record(
    request_type: str,
    name: str,
    response_time: float,
    response: Any = None,
    exception: BaseException | None = None,
    **_kwargs: Any,
) -> None:
    status = getattr(response, "status_code", 0) or 0
    started = time.time() - response_time / 1000
    REQUESTS.append([name, round(response_time, 2), status, exception is None, round(started, 3)])


@events.quitting.add_listener
def _write_output(**_kwargs: Any) -> None:
    Path(os.environ["LOAD_OUTPUT"]).write_text(
        json.dumps({"requests": REQUESTS, "acknowledged": ACKNOWLEDGED, "jobs": JOBS})
    )


def _set_cookies(response: Any) -> dict[str, str]:
    """Cookies the server set, Secure ones included (read from the raw headers)."""
    cookies = {}
    for header in response.raw.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        cookies[name.strip()] = rest.split(";", 1)[0]
    return cookies


class SignedIn(HttpUser):
    """A user with a browser session (for pages) and, where given, an API token."""

    abstract = True
    wait_time = between(1, 3)
    username = ""
    session_cookie = ""

    def sign_in(self, username: str) -> None:
        self.username = username
        page = self.client.get("/login/", name="GET /login/")
        csrf = _set_cookies(page).get("csrftoken", "")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        with self.client.post(
            "/login/",
            data={
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            headers={"Cookie": f"csrftoken={csrf}"},
            allow_redirects=False,
            name="POST /login/",
            catch_response=True,
        ) as response:
            session = _set_cookies(response).get("sessionid")
            if response.status_code != 302 or not session:
                response.failure(f"sign-in as {username}: {response.status_code}")
                return
            self.session_cookie = f"sessionid={session}"

    def page(self, path: str, name: str, expect: str = "") -> None:
        """GET a page with the session; anything but 200 (or a page without ``expect``) fails."""
        with self.client.get(
            path,
            headers={"Cookie": self.session_cookie},
            name=name,
            allow_redirects=False,  # a redirect to the login page is a failure, not a page
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} as {self.username}")
            elif expect and expect not in response.text:
                response.failure(f"no {expect!r} on the page as {self.username}")


class Teacher(SignedIn):
    """Enters scores in one class of their own and reads its growth."""

    fixed_count = len(FIXTURES["classes"])

    def on_start(self) -> None:
        self.fixture = FIXTURES["classes"][next(_classes) % len(FIXTURES["classes"])]
        self.token = self.fixture["token"]
        self.cells = [tuple(cell) for cell in self.fixture["cells"]]  # (student, skill)
        self.values = {(student, skill): value for student, skill, value in self.fixture["values"]}
        self.versions = {
            (student, skill): version for student, skill, version in self.fixture["versions"]
        }
        self.sign_in(self.fixture["username"])
        self.save_path = (
            f"/api/classroom-units/{self.fixture['classroom_unit']}"
            f"/assessments/{self.fixture['assessment']}/scores/"
        )

    def _next_value(self, cell: tuple[int, str]) -> str:
        current = self.values.get(cell)
        position = VALUE_LADDER.index(current) if current in VALUE_LADDER else -1
        return VALUE_LADDER[(position + 1) % len(VALUE_LADDER)]

    def _save(self, cells: list[tuple[int, str]], name: str) -> None:
        body = {
            "scores": [
                {
                    "student": student,
                    "skill": skill,
                    "value": self._next_value((student, skill)),
                    "version": self.versions.get((student, skill)),
                }
                for student, skill in cells
            ]
        }
        with self.client.post(
            self.save_path,
            json=body,
            headers={"Authorization": f"Token {self.token}"},
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return
            answer = response.json()
            saved = answer.get("saved", [])
            if not answer.get("applied") or len(saved) != len(cells):
                response.failure(f"not all saved: {response.text[:200]}")
                return
            for cell in saved:
                key = (cell["student"], cell["skill"])
                self.versions[key] = cell["version"]
                self.values[key] = cell["value"]
                ACKNOWLEDGED.append(
                    [
                        self.fixture["classroom_unit"],
                        self.fixture["assessment"],
                        cell["student"],
                        cell["skill"],
                        cell["version"],
                        cell["value"],
                    ]
                )

    @task(6)
    def save_a_few_cells(self) -> None:
        """What the grid sends as a teacher types: a few cells."""
        count = random.randint(1, min(6, len(self.cells)))
        self._save(
            random.sample(self.cells, count),
            "POST /api/classroom-units/[cu]/assessments/[a]/scores/ (1-6 cells)",
        )

    @task(2)
    def save_the_whole_class(self) -> None:
        self._save(
            list(self.cells),
            "POST /api/classroom-units/[cu]/assessments/[a]/scores/ (whole class)",
        )

    @task(1)
    def open_the_grid(self) -> None:
        self.page(
            f"/classrooms/{self.fixture['classroom_unit']}"
            f"/assessments/{self.fixture['assessment']}/scores/",
            "GET /classrooms/[cu]/assessments/[a]/scores/ (grid)",
        )

    @task(2)
    def read_the_class_growth(self) -> None:
        self.page(
            f"/reports/classroom-units/{self.fixture['classroom_unit']}/",
            "GET /reports/classroom-units/[cu]/ (teacher)",
            expect="Built from scores on",
        )

    @task(1)
    def open_the_reports_home(self) -> None:
        self.page("/reports/", "GET /reports/ (teacher)")


class Coach(SignedIn):
    """Reads the growth of the schools they coach."""

    fixed_count = int(FIXTURES["coach_users"])

    def on_start(self) -> None:
        self.coach = random.choice(FIXTURES["coaches"])
        self.sign_in(self.coach["username"])

    @task(1)
    def open_the_reports_home(self) -> None:
        self.page("/reports/", "GET /reports/ (coach)")

    @task(3)
    def read_a_school(self) -> None:
        school = random.choice(self.coach["schools"])
        self.page(
            f"/reports/schools/{school['id']}/",
            "GET /reports/schools/[id]/ (coach)",
            expect="Built from scores on",
        )

    @task(1)
    def read_a_schools_skills(self) -> None:
        school = random.choice(self.coach["schools"])
        self.page(
            f"/reports/schools/{school['id']}/units/{random.choice(school['units'])}/skills/",
            "GET /reports/schools/[id]/units/[u]/skills/ (coach)",
        )

    @task(1)
    def read_a_schools_groups(self) -> None:
        school = random.choice(self.coach["schools"])
        self.page(
            f"/reports/schools/{school['id']}/units/{random.choice(school['units'])}/groups/",
            "GET /reports/schools/[id]/units/[u]/groups/ (coach)",
        )

    @task(2)
    def drill_down_to_a_class(self) -> None:
        school = random.choice(self.coach["schools"])
        self.page(
            f"/reports/classroom-units/{random.choice(school['classroom_units'])}/",
            "GET /reports/classroom-units/[cu]/ (coach)",
            expect="Built from scores on",
        )


class DistrictAdmin(SignedIn):
    """Exports: a school's scores, the whole district's scores (a job), aggregate growth."""

    fixed_count = int(FIXTURES["admin_users"])
    job_wait_seconds = 90

    def on_start(self) -> None:
        self.token = FIXTURES["admin"]["token"]
        self.export_the_district()  # every admin follows at least one job to its file

    def _export(self, body: dict[str, Any], name: str) -> None:
        with self.client.post(
            "/api/exports/",
            json=body,
            headers={"Authorization": f"Token {self.token}"},
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                if not response.content:
                    response.failure("an empty export")
                return
            if response.status_code != 202:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return
            job = response.json()["id"]
        JOBS.append(job)
        self._follow(job)

    def _follow(self, job: int) -> None:
        """Poll the job as the export page does, then download its file."""
        deadline = time.monotonic() + self.job_wait_seconds
        headers = {"Authorization": f"Token {self.token}"}
        while time.monotonic() < deadline:
            time.sleep(1)
            response = self.client.get(
                f"/api/export-jobs/{job}/", headers=headers, name="GET /api/export-jobs/[id]/"
            )
            if response.status_code != 200:
                return
            state = response.json()
            if state["status"] == "failed":
                events.request.fire(
                    request_type="JOB",
                    name="export job (failed)",
                    response_time=0,
                    response_length=0,
                    response=None,
                    exception=RuntimeError(state["message"]),
                )
                return
            if state["status"] == "succeeded":
                with self.client.get(
                    f"/api/export-jobs/{job}/download/",
                    headers=headers,
                    name="GET /api/export-jobs/[id]/download/",
                    catch_response=True,
                ) as download:
                    if download.status_code != 200:
                        download.failure(f"{download.status_code}")
                    elif len(download.content) != state["file_size"]:
                        download.failure("the file is not the size the job wrote")
                return

    @task(3)
    def export_a_school(self) -> None:
        school = random.choice(FIXTURES["admin"]["schools"])
        self._export({"kind": "scores", "school": school}, "POST /api/exports/ (school scores)")

    @task(1)
    def export_the_district(self) -> None:
        self._export({"kind": "scores"}, "POST /api/exports/ (district scores, a job)")

    @task(2)
    def export_aggregate_growth(self) -> None:
        self._export({"kind": "aggregate_growth"}, "POST /api/exports/ (aggregate growth)")
