"""A browser killed mid-entry loses nothing: every typed value is back when the grid opens again
in a relaunched browser, and is then saved (issue 13). Chromium runs as its own process here, so
the test can kill it as a crash or a dead laptop would, with no chance to save or warn."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM_ARGS
from tests.browser.test_score_grid import SAVE_WAIT_MS, _cell, _class, _open_grid, _status
from tests.browser.test_score_grid_safety import API, _local_values

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Browser:
    """A Chromium process with a profile folder that outlives it."""

    def __init__(self, chromium: Any, profile: Path) -> None:
        self.chromium = chromium
        self.profile = profile
        self.process: subprocess.Popen | None = None

    def launch(self) -> Any:
        log = self.profile.with_suffix(".log")
        log.write_text("")
        executable = shutil.which("chromium") or shutil.which("chromium-browser")
        self.process = subprocess.Popen(  # noqa: S603 - a fixed command line, our own Chromium
            [
                str(executable),
                *CHROMIUM_ARGS,
                f"--user-data-dir={self.profile}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = re.search(r"DevTools listening on (ws://\S+)", log.read_text())
            if found:
                browser = self.chromium.browser_type.connect_over_cdp(found.group(1))
                page = browser.contexts[0].new_page()
                page.set_default_timeout(10_000)
                return page
            time.sleep(0.1)
        raise AssertionError("Chromium did not start")

    def kill(self) -> None:
        """As a crash: SIGKILL, no unload, no last save."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def own_browser(chromium: Any, tmp_path: Path) -> Iterator[Browser]:
    browser = Browser(chromium, tmp_path / "profile")
    yield browser
    if browser.process and browser.process.poll() is None:
        browser.kill()


def test_a_killed_browser_brings_back_every_typed_value_and_saves_it(own_browser, live_server):
    klass = _class()
    page = own_browser.launch()
    _open_grid(page, live_server, klass)
    # The server never answers: nothing typed is acknowledged before the crash.
    page.route(API, lambda route: route.abort() if route.request.method == "POST"
               else route.continue_())  # fmt: skip
    typed = {("Adams", "A"): "3", ("Baker", "A"): "2.5", ("Chen", "B"): "A", ("Dunn", "B"): "6"}
    for (name, code), value in typed.items():
        _cell(page, klass.students[name], code).click()
        page.keyboard.type(value)
    expect(_status(page)).to_contain_text("retrying", timeout=SAVE_WAIT_MS)
    deadline = time.monotonic() + 10
    while len(_local_values(page)) < len(typed) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert klass.saved() == {}

    own_browser.kill()
    page = own_browser.launch()
    _reopen(page, live_server, klass)

    for (name, code), value in typed.items():
        expect(_cell(page, klass.students[name], code)).to_have_value(value)
    expect(page.locator("#grid-note")).to_contain_text("4 values typed earlier and not saved")
    expect(_status(page)).to_have_text("All saved", timeout=SAVE_WAIT_MS)
    assert klass.saved() == typed
    assert _local_values(page) == []


def _reopen(page: Any, live_server: Any, klass: Any) -> None:
    """Back to the grid after the relaunch, signing in again if the session did not survive."""
    page.goto(f"{live_server.url}{klass.url}")
    if "/login/" in page.url:
        page.get_by_label("Username").fill("teacher_a1")
        page.get_by_label("Password").fill("pw-for-tests")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(re.compile(r".*/scores/$"))
    page.locator("#score-grid[data-ready=true]").wait_for()
