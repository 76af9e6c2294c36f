"""The embedded PostgreSQL server: what Thinslice runs on when ``DATABASE_URL`` is not set.

It is for trying and developing the product on one machine, never for production (which sets
``DATABASE_URL`` to a managed server). The server binaries come from the pip package pgserver,
so a fresh machine needs nothing but Python; the data lives in ``.postgres/`` at the top of the
checkout (git-ignored, or wherever ``THINSLICE_POSTGRES_DIR`` points), and ``make reset-db``
deletes it.

The server starts with the first database connection a process makes (``ENGINE`` is
``config.embedded_postgres``, the PostgreSQL backend that first makes sure its server runs) and
stops when the last process that connected ends, so commands that never touch the database
(lint, type checks) never start it. It listens on a Unix socket only, with no TCP port.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
DATABASE_NAME = "thinslice"
USER = "postgres"


def data_dir() -> Path:
    """Where the embedded server keeps its data: ``THINSLICE_POSTGRES_DIR`` or ``.postgres/``."""
    configured = os.environ.get("THINSLICE_POSTGRES_DIR", "").strip()
    return Path(configured).resolve() if configured else PROJECT_DIR / ".postgres"


def is_used() -> bool:
    """Whether this process runs on the embedded server (no DATABASE_URL)."""
    return not os.environ.get("DATABASE_URL", "").strip()


def database_settings() -> dict[str, Any]:
    """``DATABASES["default"]`` for the embedded server; the host and port are filled in when
    the first connection starts it (``config/embedded_postgres/base.py``)."""
    return {
        "ENGINE": "config.embedded_postgres",
        "NAME": DATABASE_NAME,
        "USER": USER,
        "PASSWORD": "",
        "HOST": "",
        "PORT": "",
    }


@dataclass(frozen=True)
class RunningServer:
    """Where a started server listens: its socket directory and port."""

    socket_dir: str
    port: int


_lock = threading.Lock()
_running: RunningServer | None = None
_databases_checked: set[str] = set()


def running_server() -> RunningServer:
    """Start the embedded server unless this process already did; where it listens.

    Raises ImproperlyConfigured, with what to do, when the data folder was made by another
    major version of PostgreSQL than the one pgserver ships.
    """
    global _running
    with _lock:
        if _running is None:
            _running = _start(data_dir())
        return _running


def ensure_database(name: str) -> None:
    """Create the database ``name`` on the embedded server if it does not exist yet (a fresh
    data folder has only ``postgres``). Asked once per name and process."""
    if name in _databases_checked or name == "postgres":
        return
    import psycopg
    from psycopg import sql

    server = running_server()
    with psycopg.connect(
        host=server.socket_dir, port=server.port, user=USER, dbname="postgres", autocommit=True
    ) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    _databases_checked.add(name)


def _pgserver() -> Any:
    """The pgserver package, imported quietly: platformdirs warns when XDG_RUNTIME_DIR is unset
    (containers, CI) and falls back to /tmp, which suits pgserver's lock file and socket."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
        import pgserver._commands
        import pgserver.postgres_server
        import pgserver.utils
    return pgserver


def server_major_version() -> int:
    """The major version of the PostgreSQL that pgserver ships (e.g. 16)."""
    output = subprocess.run(  # noqa: S603 - the package's own binary, no shell
        [str(_pgserver()._commands.POSTGRES_BIN_PATH / "postgres"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", output)
    if match is None:
        raise ImproperlyConfigured(f"Could not read the embedded PostgreSQL's version: {output!r}")
    return int(match.group(1))


class DataFolderVersionMismatch(ImproperlyConfigured):
    """The embedded data folder belongs to another PostgreSQL major version (the message says
    what to do); entry points print it without a traceback."""


def check_data_dir_version(pgdata: Path) -> None:
    """Refuse, with a clear message, a data folder that another PostgreSQL major made: the
    server would not start on it, and pgserver would only print its log."""
    version_file = pgdata / "PG_VERSION"
    if not version_file.exists():
        return
    found = version_file.read_text().strip()
    expected = server_major_version()
    if found != str(expected):
        raise DataFolderVersionMismatch(
            f"The embedded PostgreSQL data folder {pgdata} was made by PostgreSQL {found}, but "
            f"this checkout runs PostgreSQL {expected} (from the pgserver package), which cannot "
            "open it. It holds only demo and development data: delete it with `make reset-db` "
            "(or move it aside) and the next start makes a new one. To keep the data, dump it "
            f"with PostgreSQL {found}'s pg_dump first and load it afterwards."
        )


def _start(pgdata: Path) -> RunningServer:
    if not pgdata.parent.is_dir():
        raise ImproperlyConfigured(
            f"The folder for the embedded PostgreSQL data, {pgdata.parent}, does not exist."
        )
    check_data_dir_version(pgdata)
    pgserver = _pgserver()
    pgdata.mkdir(exist_ok=True)
    _forget_ended_processes(pgdata, pgserver.postgres_server.PostgresServer)
    # "stop": pgserver counts the processes using the server and stops it when the last ends.
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    info = server.get_postmaster_info()
    if info.socket_dir is None or info.port is None:
        raise ImproperlyConfigured(f"The embedded PostgreSQL in {pgdata} has no socket to use.")
    return RunningServer(socket_dir=str(info.socket_dir), port=info.port)


def _forget_ended_processes(pgdata: Path, server_class: Any) -> None:
    """Drop processes that ended without saying so (killed) from pgserver's list of users of
    the server, so that the last live process to end still stops it."""
    import psutil

    handles = _pgserver().utils.DiskList(pgdata / ".handle_pids.json")
    with server_class._lock:
        pids = handles.get()
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.put(alive)


def stop(pgdata: Path) -> None:
    """Stop a server running on ``pgdata`` (``reset``), whichever process started it."""
    if not (pgdata / "postmaster.pid").exists():
        return
    import pwd

    # pgserver runs the server as its own user "pgserver" when started by root.
    user = pgdata.owner() if os.geteuid() == 0 else None
    _pgserver().pg_ctl(
        ["-w", "-m", "fast", "stop"],
        pgdata=pgdata,
        user=None if user is None else pwd.getpwnam(user).pw_name,
    )
