"""What the HTTP benchmarks share: a scratch PostgreSQL database, a gunicorn server over it with
production settings on plain HTTP, closed-loop clients with bounded run time, and latency
statistics.

Everything stays on loopback: the database host must be a loopback address and gunicorn binds
127.0.0.1 on a free port. The scratch database name must contain "bench" so a typo can never
drop a real database.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432"
_DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


# --------------------------------------------------------------------------- scratch database


@dataclass(frozen=True)
class ScratchDatabase:
    """A PostgreSQL database created for one run and dropped after it."""

    server_url: str  # postgres://user@host:port, no database name
    name: str

    def __post_init__(self) -> None:
        if not _DATABASE_NAME.match(self.name) or "bench" not in self.name:
            raise SystemExit(
                f"Refusing scratch database name {self.name!r}: use lower-case letters, digits "
                "and underscores, and include 'bench' (it is dropped at the start and the end)."
            )
        host = urlsplit(self.server_url).hostname or ""
        if host and host not in LOOPBACK_HOSTS and not host.startswith("/"):
            raise SystemExit(f"Benchmarks only talk to a loopback PostgreSQL, not {host!r}.")

    @property
    def url(self) -> str:
        return f"{self.server_url.rstrip('/')}/{self.name}"

    def _admin(self) -> Any:
        import psycopg

        return psycopg.connect(f"{self.server_url.rstrip('/')}/postgres", autocommit=True)

    def create(self) -> None:
        """Drop the database if it exists (a previous run that was killed), then create it."""
        from psycopg import sql

        with self._admin() as connection:
            name = sql.Identifier(self.name)
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            connection.execute(sql.SQL("CREATE DATABASE {}").format(name))

    def drop(self) -> None:
        from psycopg import sql

        with self._admin() as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )

    def server_version(self) -> str:
        with self._admin() as connection:
            row = connection.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "?"


# --------------------------------------------------------------------------- Django processes


def clean_up_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so that a benchmark stopped with `kill` still runs its
    ``finally`` blocks: servers stopped, scratch database dropped."""

    def stop(signum: int, _frame: Any) -> None:
        raise SystemExit(f"Stopped by signal {signum}.")

    signal.signal(signal.SIGTERM, stop)


def add_scratch_run_arguments(parser: Any, *, results_name: str, database: str) -> None:
    """The options every database benchmark shares: where the figures go, which PostgreSQL
    server, which scratch database (dropped before and after), and --check."""
    parser.add_argument(
        "--json",
        type=Path,
        default=RESULTS_DIR / results_name,
        help=f"where to write the figures (bench/results/{results_name})",
    )
    parser.add_argument(
        "--pg",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_SERVER_URL),
        help=f"PostgreSQL server, no database name ({DEFAULT_SERVER_URL})",
    )
    parser.add_argument(
        "--database",
        default=database,
        help=f"scratch database name, dropped before and after ({database})",
    )
    parser.add_argument(
        "--check", action="store_true", help="exit with status 3 when a target is missed"
    )


def production_env(database_url: str, broker_url: str = "") -> dict[str, str]:
    """Environment for manage.py, gunicorn and Celery: production settings over plain HTTP on
    loopback. Celery variables from the caller's environment are dropped: with ``broker_url``
    tasks are queued there, without one they run inline in the web process.
    """
    env = dict(os.environ)
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "DJANGO_DEBUG"):
        env.pop(name, None)
    if broker_url:
        env["CELERY_BROKER_URL"] = broker_url
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(48),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_CONN_MAX_AGE="60",
        DJANGO_LOG_LEVEL="WARNING",
        DATABASE_URL=database_url,
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    """Run ``manage.py`` with ``args``; returns its output, or exits showing it on failure."""
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
        timeout=3600,
    )
    if completed.returncode != 0:
        print(completed.stdout, file=sys.stderr)
        raise SystemExit(f"manage.py {' '.join(args)} failed (exit {completed.returncode}).")
    print(f"  manage.py {' '.join(args)}: {time.perf_counter() - started:.1f} s")
    return completed.stdout


def django_setup(env: dict[str, str]) -> None:
    """Configure Django in this process with the server's settings (to read ids with the ORM)."""
    names = (
        "DJANGO_SETTINGS_MODULE",
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DJANGO_SECURE_SSL_REDIRECT",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
    )
    os.environ.update({name: env[name] for name in names if name in env})
    os.environ["DJANGO_CONN_MAX_AGE"] = "0"
    import django

    django.setup()


def django_close() -> None:
    from django.db import connections

    connections.close_all()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _terminate(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM (graceful), then SIGKILL after 15 s; only ever a process this run started."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


@dataclass
class RedisServer:
    """A private, memory-only redis-server on 127.0.0.1 and a free port: the Celery broker."""

    work_dir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, ready_timeout: float = 15.0) -> None:
        if shutil.which("redis-server") is None:
            raise SystemExit(
                "redis-server is not installed: install it (apt-get install redis-server) or "
                "run with --celery inline (tasks then run inside each request)."
            )
        self.port = free_port()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.work_dir),
                "--logfile",
                str(self.work_dir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"redis-server exited:\n{_tail(self.work_dir / 'redis.log')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as probe:
                    probe.sendall(b"PING\r\n")
                    if probe.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"redis-server did not answer within {ready_timeout:.0f} s")

    def stop(self) -> None:
        _terminate(self.process)


@dataclass
class CeleryWorker:
    """One Celery worker process (solo pool) consuming the app's tasks, as in production."""

    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "WARNING",
                "--logfile",
                str(self.log_path),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        _terminate(self.process)

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log_path, lines)


@dataclass
class GunicornServer:
    """``config.wsgi`` under gunicorn on 127.0.0.1 and a free port, as a child process."""

    env: dict[str, str]
    log_path: Path
    workers: int = 2
    worker_class: str = "gthread"
    threads: int = 4
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def description(self) -> str:
        threads = f" × {self.threads} threads" if self.worker_class == "gthread" else ""
        return f"gunicorn {self.worker_class}, {self.workers} workers{threads}"

    def start(self, ready_timeout: float = 60.0) -> None:
        self.port = free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            self.worker_class,
            "--threads",
            str(self.threads),
            "--keep-alive",
            "5",
            "--timeout",
            "60",
            "--graceful-timeout",
            "10",
            "--log-level",
            "warning",
            "--error-logfile",
            str(self.log_path),
            "--no-control-socket",
        ]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited at start-up:\n{self.log_tail()}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/api/districts/")
                status = connection.getresponse().status
                connection.close()
            except OSError:
                time.sleep(0.2)
                continue
            if status in (200, 401, 403):
                return
            raise SystemExit(f"gunicorn answered {status} at start-up:\n{self.log_tail()}")
        raise SystemExit(
            f"gunicorn did not answer within {ready_timeout:.0f} s:\n{self.log_tail()}"
        )

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        _terminate(self.process)

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log_path, lines)


# --------------------------------------------------------------------------- HTTP clients


def connect(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=30)


def request_json(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
) -> tuple[int, bytes]:
    """One request on a keep-alive connection; returns the status and the raw body."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    payload = None
    if body is not None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    connection.request(method, path, body=payload, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def token_get(port: int, username: str, password: str) -> str:
    connection = connect(port)
    try:
        status, body = request_json(
            connection,
            "POST",
            "/api/token/",
            body={"username": username, "password": password},
        )
    finally:
        connection.close()
    if status != 200:
        raise SystemExit(f"POST /api/token/ for {username} answered {status}: {body[:300]!r}")
    return str(json.loads(body)["token"])


@dataclass
class Outcome:
    """What one request did: ``ok`` is False for any unexpected status; ``detail`` explains."""

    ok: bool
    status: int
    detail: str = ""


# A client makes one request on the connection it is given and says how it went.
Client = Callable[[http.client.HTTPConnection], Outcome]


@dataclass
class PhaseResult:
    name: str
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + self.errors

    def add(self, other: PhaseResult) -> None:
        """Fold in another round of the same endpoint."""
        self.seconds += other.seconds
        self.latencies_ms.extend(other.latencies_ms)
        self.errors += other.errors
        self.statuses.update(other.statuses)
        self.error_samples.extend(other.error_samples[: 5 - len(self.error_samples)])

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        return {
            "endpoint": self.name,
            "requests": self.requests,
            "errors": self.errors,
            "throughput_rps": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": _rounded(percentile(ordered, 50)),
            "p95_ms": _rounded(percentile(ordered, 95)),
            "p99_ms": _rounded(percentile(ordered, 99)),
            "mean_ms": _rounded(sum(ordered) / len(ordered)) if ordered else None,
            "max_ms": _rounded(ordered[-1]) if ordered else None,
            "statuses": dict(self.statuses),
            "error_samples": self.error_samples,
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def percentile(ordered: Sequence[float], q: float) -> float | None:
    """The q-th percentile of sorted values, interpolating between closest ranks."""
    if not ordered:
        return None
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def run_phase(
    *,
    name: str,
    port: int,
    clients: Sequence[Client],
    warmup: float,
    seconds: float,
    server: GunicornServer | None = None,
) -> PhaseResult:
    """Closed loop: each client sends its next request as soon as the previous one is answered,
    on its own keep-alive connection, for ``warmup`` + ``seconds``.

    Only requests that complete inside the measured window count; latencies are of successful
    requests (2xx that the client accepted), errors are counted apart.
    """
    result = PhaseResult(name=name, seconds=seconds)
    lock = threading.Lock()
    stop = threading.Event()
    measure_from = time.perf_counter() + warmup
    measure_until = measure_from + seconds

    def loop(client: Client) -> None:
        connection = connect(port)
        try:
            while not stop.is_set():
                started = time.perf_counter()
                if started >= measure_until:
                    return
                try:
                    outcome = client(connection)
                except (OSError, http.client.HTTPException) as error:
                    connection.close()
                    outcome = Outcome(ok=False, status=0, detail=f"{type(error).__name__}: {error}")
                    time.sleep(0.05)  # a refused connection must not spin
                finished = time.perf_counter()
                if not measure_from <= finished < measure_until:
                    continue
                with lock:
                    result.statuses[str(outcome.status)] += 1
                    if outcome.ok:
                        result.latencies_ms.append((finished - started) * 1000)
                    else:
                        result.errors += 1
                        if len(result.error_samples) < 5:
                            result.error_samples.append(f"{outcome.status} {outcome.detail}"[:500])
        finally:
            connection.close()

    threads = [
        threading.Thread(target=loop, args=(client,), name=f"{name}-{index}", daemon=True)
        for index, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    try:
        hard_deadline = measure_until + 60  # one request may take up to the client timeout
        for thread in threads:
            while thread.is_alive() and time.perf_counter() < hard_deadline:
                thread.join(timeout=0.5)
                if server is not None and not server.is_running():
                    stop.set()
                    raise SystemExit(f"gunicorn died during {name}:\n{server.log_tail()}")
    finally:
        stop.set()
    return result


# --------------------------------------------------------------------------- output


def table(rows: Sequence[dict[str, Any]]) -> str:
    """The phase summaries as an aligned plain-text table."""
    columns = [
        ("endpoint", "endpoint", "{}"),
        ("requests", "requests", "{}"),
        ("errors", "errors", "{}"),
        ("throughput_rps", "req/s", "{:.1f}"),
        ("p50_ms", "p50 ms", "{:.1f}"),
        ("p95_ms", "p95 ms", "{:.1f}"),
        ("p99_ms", "p99 ms", "{:.1f}"),
    ]
    cells = [[title for _key, title, _format in columns]]
    for row in rows:
        cells.append(
            ["-" if row[key] is None else form.format(row[key]) for key, _title, form in columns]
        )
    widths = [max(len(line[index]) for line in cells) for index in range(len(columns))]
    lines = []
    for number, line in enumerate(cells):
        lines.append(
            "  ".join(
                text.ljust(width) if index == 0 else text.rjust(width)
                for index, (text, width) in enumerate(zip(line, widths, strict=True))
            )
        )
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def git_commit() -> str | None:
    """The checked-out commit (read only), to tell runs apart; None outside a git checkout."""
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout.strip() or None if completed.returncode == 0 else None


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
