"""Benchmark: the student-level scores export over HTTP beside PostgreSQL's own COPY of the same
query, at two district sizes.

    .venv/bin/python -m bench.export_scores [--students 20000 100000] [--repeat 3]
                                            [--json bench/results/export_scores.json]

One command does everything, per size: a scratch PostgreSQL database (dropped first if it
exists), ``migrate``, ``seed_demo --students N``, ``ANALYZE``, then gunicorn serving
``config.wsgi`` with production settings over plain HTTP on 127.0.0.1 with ONE sync worker (the
exporting process, whose memory is measured), and ``--repeat`` rounds of, alternately:

1. **COPY**: the exact statement the export runs (``COPY (scoped, filtered, formatted query) TO
   STDOUT (FORMAT csv)``, built by reports/exports/ for the demo district admin), run by
   this process over its own psycopg connection, reading every row and throwing it away.
2. **HTTP**: ``POST /api/exports/ {"kind": "scores"}`` as the district admin (token auth): the
   whole district streamed by the gunicorn worker, read by this process in 256 KB reads.

For each it measures rows per second (rows ÷ time from the request to the last byte), the time
to the first byte, and for HTTP the worker's peak resident memory during the export (its
``VmHWM`` after resetting it through ``/proc/<pid>/clear_refs``; sampled ``VmRSS`` where that is
not allowed). The best round of each counts. Prints a table, the ratio HTTP ÷ COPY (target ≥
0.8), the first byte against the last, and peak memory at the largest size ÷ at the smallest
(target ≤ 1.2); writes the figures as JSON. The servers are stopped and the scratch database
dropped whatever happens. See bench/README.md.

The server streams every export here (``THINSLICE_EXPORT_ASYNC_ROWS=0``): the benchmark measures
the streaming path. In the product an export above the threshold becomes a job; the COUNT that
decides it stops one row past the threshold, and its cost is printed apart.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import (
    GunicornServer,
    ScratchDatabase,
    add_scratch_run_arguments,
    clean_up_on_sigterm,
    django_close,
    django_setup,
    git_commit,
    manage,
    production_env,
    token_get,
    write_json,
)

TARGET_RATIO = 0.8
TARGET_MEMORY_RATIO = 1.2
READ_BYTES = 256 * 1024
EXPORT_PATH = "/api/exports/"
DEFAULT_THRESHOLD = 200_000  # the product default, for the routing COUNT measured apart


@dataclass
class Measure:
    """One read of the whole export: rows, bytes, seconds to the first and the last byte."""

    path: str
    rows: int
    bytes: int
    first_byte_s: float
    total_s: float
    peak_rss_mb: float | None = None
    baseline_rss_mb: float | None = None
    memory_source: str = ""

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.total_s if self.total_s else 0.0


@dataclass
class SizeResult:
    students: int
    score_rows: int = 0
    copy: list[Measure] = field(default_factory=list)
    http: list[Measure] = field(default_factory=list)
    routing_count_ms: float | None = None

    def best(self, path: str) -> Measure:
        measures = self.copy if path == "copy" else self.http
        return max(measures, key=lambda measure: measure.rows_per_s)

    def peak_rss_mb(self) -> float | None:
        """The highest peak of the HTTP rounds: memory must stay flat in every round."""
        peaks = [m.peak_rss_mb for m in self.http if m.peak_rss_mb is not None]
        return max(peaks) if peaks else None


# --------------------------------------------------------------------------- the exporting process


def _status_kb(pid: int, name: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{name}:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _reset_peak(pid: int) -> bool:
    """Reset the process's peak resident size (VmHWM) to its current size."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def worker_pid(master_pid: int) -> int:
    """The gunicorn worker: the one child of the master."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid:
            children.append(int(entry.name))
    if len(children) != 1:
        raise SystemExit(f"Expected one gunicorn worker, found {children}")
    return children[0]


class RssSampler:
    """Samples a process's VmRSS every few milliseconds, in case VmHWM cannot be reset."""

    def __init__(self, pid: int, every_s: float = 0.01) -> None:
        self.pid = pid
        self.every_s = every_s
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, _status_kb(self.pid, "VmRSS") or 0)
            time.sleep(self.every_s)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --------------------------------------------------------------------------- the two paths


def export_statement() -> tuple[str, tuple[Any, ...], int]:
    """The COPY statement the export runs for the demo admin, and the rows it will write."""
    from classrooms.models import User
    from reports import exports
    from reports.exports.scores import SCORE_COLUMNS, score_rows
    from reports.exports.writing import copy_statement

    # cross-tenant: the benchmark looks up the demo district admin by name.
    admin = User.objects.all_schools().get(username="admin")
    prepared = exports.export_prepare(actor=admin, kind="scores")
    rows = score_rows(scope=prepared.scope, filters=prepared.filters)
    statement, params = copy_statement(rows, SCORE_COLUMNS)
    return statement, params, exports.export_row_count(prepared=prepared)


def routing_count_ms() -> float:
    """How long the product's bounded COUNT (threshold 200 000) takes for this export."""
    from classrooms.models import User
    from reports import exports

    # cross-tenant: the benchmark looks up the demo district admin by name.
    admin = User.objects.all_schools().get(username="admin")
    prepared = exports.export_prepare(actor=admin, kind="scores")
    started = time.perf_counter()
    exports.export_row_count(prepared=prepared, at_most=DEFAULT_THRESHOLD + 1)
    return (time.perf_counter() - started) * 1000


def measure_copy(database_url: str, statement: str, params: tuple[Any, ...]) -> Measure:
    """PostgreSQL's COPY of the same query, read row by row and thrown away."""
    import psycopg

    rows = size = 0
    first: float | None = None
    with psycopg.connect(database_url) as connection:
        cursor = connection.cursor()
        started = time.perf_counter()
        with cursor.copy(statement, params) as copy:
            for block in copy:
                if first is None:
                    first = time.perf_counter() - started
                rows += 1
                size += len(block)
        total = time.perf_counter() - started
    return Measure("copy", rows=rows, bytes=size, first_byte_s=first or total, total_s=total)


def measure_http(port: int, token: str, pid: int) -> Measure:
    """The export over HTTP, read in 256 KB reads; the worker's peak memory meanwhile."""
    baseline_kb = _status_kb(pid, "VmRSS") or 0
    can_reset = _reset_peak(pid)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    body = json.dumps({"kind": "scores"}).encode()
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    size = 0
    with RssSampler(pid) as sampler:
        started = time.perf_counter()
        connection.request("POST", EXPORT_PATH, body=body, headers=headers)
        response = connection.getresponse()
        if response.status != 200:
            raise SystemExit(f"POST {EXPORT_PATH} answered {response.status}: {response.read()!r}")
        first_chunk = response.read1(READ_BYTES)
        first = time.perf_counter() - started
        size += len(first_chunk)
        lines = first_chunk.count(b"\n")
        while chunk := response.read(READ_BYTES):
            size += len(chunk)
            lines += chunk.count(b"\n")
        total = time.perf_counter() - started
    connection.close()
    peak_kb = _status_kb(pid, "VmHWM") if can_reset else None
    source = "VmHWM after clear_refs" if peak_kb else "VmRSS sampled every 10 ms"
    peak = peak_kb or sampler.peak_kb
    return Measure(
        "http",
        rows=lines - 1,  # the header line; the demo's names hold no line ends
        bytes=size,
        first_byte_s=first,
        total_s=total,
        peak_rss_mb=round(peak / 1024, 1),
        baseline_rss_mb=round(baseline_kb / 1024, 1),
        memory_source=source,
    )


# --------------------------------------------------------------------------- one size


def run_size(
    *, students: int, database: ScratchDatabase, repeat: int, work_dir: Path
) -> SizeResult:
    result = SizeResult(students=students)
    print(f"\n== {students} students")
    database.create()
    env = production_env(database.url)
    env["THINSLICE_EXPORT_ASYNC_ROWS"] = "0"  # stream every export: the path measured here
    manage(env, "migrate", "--noinput")
    seeded = manage(env, "seed_demo", "--students", str(students))
    summary = [line for line in seeded.splitlines() if "schools," in line]
    if summary:
        print(f"  {summary[-1].strip()}")
    import psycopg

    with psycopg.connect(database.url, autocommit=True) as connection:
        connection.execute("ANALYZE")

    from reports.demo import DEMO_PASSWORD

    try:
        statement, params, rows = export_statement()
        result.score_rows = rows
        result.routing_count_ms = round(routing_count_ms(), 1)
    finally:
        django_close()
    print(f"  {rows} score rows; routing COUNT (threshold 200 000): {result.routing_count_ms} ms")

    server = GunicornServer(
        env=env,
        log_path=work_dir / f"gunicorn-{students}.log",
        workers=1,
        worker_class="sync",
        threads=1,
    )
    try:
        server.start()
        assert server.process is not None
        pid = worker_pid(server.process.pid)
        token = token_get(server.port, "admin", DEMO_PASSWORD)
        # Warm the worker (imports, the first connection) with one school's export.
        warm = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
        warm.request(
            "POST",
            EXPORT_PATH,
            body=json.dumps({"kind": "scores", "subject": "Math"}).encode(),
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        )
        warm.getresponse().read()
        warm.close()
        for number in range(repeat):
            copy = measure_copy(database.url, statement, params)
            result.copy.append(copy)
            http_measure = measure_http(server.port, token, pid)
            result.http.append(http_measure)
            print(
                f"  round {number + 1}/{repeat}: COPY {copy.rows_per_s:,.0f} rows/s "
                f"({copy.total_s:.2f} s), HTTP {http_measure.rows_per_s:,.0f} rows/s "
                f"({http_measure.total_s:.2f} s, first byte {http_measure.first_byte_s:.3f} s, "
                f"worker peak {http_measure.peak_rss_mb} MB)"
            )
            if http_measure.rows != copy.rows:
                raise SystemExit(f"HTTP wrote {http_measure.rows} rows, COPY {copy.rows}")
    finally:
        server.stop()
    return result


# --------------------------------------------------------------------------- output


def _table(results: list[SizeResult]) -> str:
    header = (
        "students",
        "rows",
        "COPY rows/s",
        "HTTP rows/s",
        "HTTP/COPY",
        "COPY 1st byte s",
        "HTTP 1st byte s",
        "HTTP last byte s",
        "worker peak MB",
    )
    lines = [header]
    for result in results:
        copy, http_best = result.best("copy"), result.best("http")
        lines.append(
            (
                str(result.students),
                str(result.score_rows),
                f"{copy.rows_per_s:,.0f}",
                f"{http_best.rows_per_s:,.0f}",
                f"{http_best.rows_per_s / copy.rows_per_s:.2f}",
                f"{copy.first_byte_s:.3f}",
                f"{http_best.first_byte_s:.3f}",
                f"{http_best.total_s:.2f}",
                f"{result.peak_rss_mb()}",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for number, line in enumerate(lines):
        out.append("  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)))
        if number == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.export_scores",
        description=(
            "The student-level scores export over HTTP (gunicorn, one sync worker, production "
            "settings, PostgreSQL) beside COPY of the same query, at each district size."
        ),
    )
    parser.add_argument(
        "--students",
        type=int,
        nargs="+",
        default=[20_000, 100_000],
        help="seed_demo sizes, smallest first (20000 100000)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds per size; best counts (3)")
    add_scratch_run_arguments(
        parser, results_name="export_scores.json", database="thinslice_bench_export"
    )
    options = parser.parse_args(argv)
    if options.repeat < 1 or options.repeat > 20 or min(options.students) < 30:
        parser.error("--repeat must be 1..20 and every size at least 30 students")
    options.students = sorted(options.students)
    return options


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    clean_up_on_sigterm()
    database = ScratchDatabase(server_url=options.pg, name=options.database)
    work_dir = Path(tempfile.mkdtemp(prefix="thinslice-bench-export-"))
    results: list[SizeResult] = []
    started = time.perf_counter()
    finished = False
    try:
        print(f"Scratch database {database.name} (PostgreSQL {database.server_version()})")
        # Django reads DATABASE_URL once: every size reuses the same scratch database name.
        database.create()
        django_setup(production_env(database.url))
        for students in options.students:
            results.append(
                run_size(
                    students=students,
                    database=database,
                    repeat=options.repeat,
                    work_dir=work_dir,
                )
            )
        finished = True
    finally:
        django_close()
        database.drop()
        if finished:
            shutil.rmtree(work_dir, ignore_errors=True)
        else:
            print(f"Logs kept in {work_dir}", file=sys.stderr)
        print(f"\nDropped {database.name} ({time.perf_counter() - started:.0f} s)")

    print()
    print(_table(results))
    print()
    meets = True
    for result in results:
        copy, http_best = result.best("copy"), result.best("http")
        ratio = http_best.rows_per_s / copy.rows_per_s
        ok = ratio >= TARGET_RATIO
        meets &= ok
        print(
            f"{result.students} students: HTTP ÷ COPY = {ratio:.2f} — "
            f"{'meets' if ok else 'MISSES'} the target (≥ {TARGET_RATIO:g}); first byte after "
            f"{http_best.first_byte_s:.3f} s of {http_best.total_s:.2f} s "
            f"({100 * http_best.first_byte_s / http_best.total_s:.1f}% of the way)"
        )
    smallest, largest = results[0].peak_rss_mb(), results[-1].peak_rss_mb()
    memory_ratio = None
    if smallest and largest and len(results) > 1:
        memory_ratio = largest / smallest
        ok = memory_ratio <= TARGET_MEMORY_RATIO
        meets &= ok
        print(
            f"worker peak memory: {largest} MB at {results[-1].students} students ÷ {smallest} MB "
            f"at {results[0].students} = {memory_ratio:.2f} — "
            f"{'meets' if ok else 'MISSES'} the target (≤ {TARGET_MEMORY_RATIO:g}); "
            f"measured as {results[-1].http[0].memory_source}"
        )

    document = {
        "benchmark": "export_scores",
        "finished_at": datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "config": {
            "students": options.students,
            "repeat": options.repeat,
            "server": "gunicorn sync, 1 worker, config.settings.production (plain HTTP)",
            "export": f"POST {EXPORT_PATH} {{'kind': 'scores'}} as the district admin",
            "reference": "psycopg COPY of the export's own statement, in this process",
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "sizes": [
            {
                "students": result.students,
                "score_rows": result.score_rows,
                "routing_count_ms": result.routing_count_ms,
                "copy": [asdict(m) | {"rows_per_s": round(m.rows_per_s)} for m in result.copy],
                "http": [asdict(m) | {"rows_per_s": round(m.rows_per_s)} for m in result.http],
                "best_ratio": round(
                    result.best("http").rows_per_s / result.best("copy").rows_per_s, 3
                ),
                "median_ratio": round(
                    statistics.median(m.rows_per_s for m in result.http)
                    / statistics.median(m.rows_per_s for m in result.copy),
                    3,
                ),
                "peak_rss_mb": result.peak_rss_mb(),
            }
            for result in results
        ],
        "memory_ratio": None if memory_ratio is None else round(memory_ratio, 3),
        "targets": {"ratio": TARGET_RATIO, "memory_ratio": TARGET_MEMORY_RATIO},
        "meets_targets": meets,
    }
    write_json(options.json, document)
    print(f"Figures written to {options.json}")
    if options.check and not meets:
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
