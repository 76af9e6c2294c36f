"""The embedded PostgreSQL of `make run` and `make test` (no DATABASE_URL): it starts with the
first connection, stops when the last process using it ends, and refuses a data folder of
another PostgreSQL version with a clear message.

Each test runs Thinslice in subprocesses on a data folder of its own, as a developer's shell
would, so they hold in CI too (where the suite itself runs on the machine's PostgreSQL).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

PROJECT = Path(__file__).resolve().parent.parent

# Connects, prints what it found, then waits for a line on stdin before exiting.
CONNECT_AND_WAIT = """
import sys
import django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SELECT current_database(), version()")
    print(*cursor.fetchone(), sep="|", flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def pgdata(tmp_path):
    """A data folder of the test's own; a server a failed test left running on it is stopped."""
    folder = tmp_path / "pgdata"
    yield folder
    pid = _server_pid(folder)
    if pid is not None:
        psutil.Process(pid).terminate()


def _env(pgdata: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.base", THINSLICE_POSTGRES_DIR=str(pgdata))
    return env


def _start_user(pgdata: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", CONNECT_AND_WAIT],
        cwd=PROJECT,
        env=_env(pgdata),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "|PostgreSQL" in line, process.stderr.read() if process.stderr else line
    database, _ = line.split("|", 1)
    assert database == "thinslice"
    return process


def _server_pid(pgdata: Path) -> int | None:
    """The postmaster's pid while a server runs on ``pgdata``, else None."""
    pid_file = pgdata / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None
    return pid if psutil.pid_exists(pid) else None


def _wait_until_stopped(pgdata: Path, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _server_pid(pgdata) is None:
            return True
        time.sleep(0.2)
    return False


def test_the_server_runs_while_any_user_lives_and_stops_after_the_last(pgdata) -> None:
    first = _start_user(pgdata)
    second = _start_user(pgdata)
    assert _server_pid(pgdata) is not None
    try:
        first.communicate("\n", timeout=30)
        assert first.returncode == 0
        assert _server_pid(pgdata) is not None, "the second process still uses the server"

        second.communicate("\n", timeout=30)
        assert second.returncode == 0
        assert _wait_until_stopped(pgdata), "the last process ended: the server must stop"
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.kill()


def test_a_killed_user_does_not_keep_the_server_running(pgdata) -> None:
    """A process killed without a chance to say it ended must not count as a user for ever."""
    killed = _start_user(pgdata)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)

    last = _start_user(pgdata)
    last.communicate("\n", timeout=30)

    assert last.returncode == 0
    assert _wait_until_stopped(pgdata)


def test_a_data_folder_of_another_postgresql_version_gets_a_clear_message(pgdata) -> None:
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("9\n")

    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=PROJECT,
        env=_env(pgdata),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode != 0
    assert f"data folder {pgdata} was made by PostgreSQL 9" in result.stderr
    assert "make reset-db" in result.stderr
    assert "Traceback" not in result.stderr
