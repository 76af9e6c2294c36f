"""A real Celery worker process over Redis, on the test database, for the tests about tasks."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection

from config.celery import app as celery_app
from tests.services import unavailable

PROJECT = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    """The test database as a URL for the worker process (the embedded server's host is the
    directory of its socket, percent-encoded)."""
    params = connection.get_connection_params()
    password = f":{quote(params['password'], safe='')}" if params.get("password") else ""
    host = quote(str(params.get("host") or "127.0.0.1"), safe="")
    port = params.get("port") or 5432
    user = params.get("user") or "postgres"
    return f"postgres://{user}{password}@{host}:{port}/{params['dbname']}"


@pytest.fixture
def celery_worker_queue(transactional_db: Any) -> Iterator[str]:
    """Start `celery worker` on a queue of its own; yield the queue name; stop it afterwards."""
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker:
        unavailable("CELERY_BROKER_URL is not set (a Redis broker is needed for the worker test)")
    queue_name = f"thinslice-test-{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker,
        "DJANGO_DEBUG": "false",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            f"--queues={queue_name}",
            f"--hostname={queue_name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    stdout = worker.stdout
    assert stdout is not None
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    output: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            if worker.poll() is not None:
                break
            continue
        output.append(line)
        if " ready." in line:
            break
    else:
        worker.kill()
        pytest.fail("The Celery worker did not start within 60 s:\n" + "".join(output))
    if worker.poll() is not None:
        pytest.fail("The Celery worker exited at start:\n" + "".join(output))
    was_eager = celery_app.conf.task_always_eager
    default_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    # Tasks the code under test enqueues go to this test's worker.
    celery_app.conf.task_default_queue = queue_name
    try:
        yield queue_name
    finally:
        celery_app.conf.task_always_eager = was_eager
        celery_app.conf.task_default_queue = default_queue
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
