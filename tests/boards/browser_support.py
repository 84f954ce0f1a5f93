"""Helpers for the browser tests: a live Django server, a Celery worker process, headless Chromium.

Everything binds 127.0.0.1 on an ephemeral port; the worker talks to this test run's own
database and Redis db, so the write-back and webhook refresh run exactly as in production.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from contextlib import ExitStack, contextmanager

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.test.testcases import LiveServerThread

from tests.support.processes import ROOT, celery_worker_argv, child_env
from tests.support.waiting import wait_until

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _InFlight:
    """Requests the live server is still handling, up to the response's close (where Django runs
    request_finished). A test must not flush the database while one is in flight: the TRUNCATE
    would deadlock with the request's own writes."""

    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    def add(self, delta: int) -> None:
        with self.lock:
            self.count += delta


IN_FLIGHT = _InFlight()


class TrackedStaticFilesHandler(StaticFilesHandler):
    def __call__(self, environ, start_response):
        IN_FLIGHT.add(1)
        try:
            response = super().__call__(environ, start_response)
        except BaseException:
            IN_FLIGHT.add(-1)
            raise
        original_close = response.close

        def close():
            try:
                original_close()
            finally:
                IN_FLIGHT.add(-1)

        response.close = close
        return response


def wait_server_idle(timeout: float = 15.0) -> None:
    """Block until the live server has finished every request it started."""
    deadline = time.monotonic() + timeout
    while IN_FLIGHT.count > 0 and time.monotonic() < deadline:
        time.sleep(0.02)


@contextmanager
def live_server():
    """Django on 127.0.0.1:<ephemeral>, static files (node_modules included) served by finders."""
    thread = LiveServerThread("127.0.0.1", TrackedStaticFilesHandler, connections_override={}, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    try:
        yield f"http://127.0.0.1:{thread.port}"
    finally:
        thread.terminate()


@contextmanager
def celery_worker(*, public_url: str):
    """A real worker process on this test run's database and broker (realtime + sync queues)."""
    argv = celery_worker_argv("realtime,sync", "--pool", "solo", "--purge", "--loglevel", "WARNING")
    process = subprocess.Popen(argv, env=child_env(PUBLIC_URL=public_url), cwd=ROOT)
    try:
        _wait_for_worker()
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_for_worker(timeout: float = 30.0) -> None:
    from topleft.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if app.control.ping(timeout=0.5):
                return
        except Exception:  # broker not answering yet
            time.sleep(0.2)
    raise RuntimeError("the Celery worker did not start")


def _real_clock_env() -> dict[str, str]:
    """This environment without libfaketime (tests/support/faketime/run.sh): Chromium under it
    never finishes loading a page, and a user's browser runs on its own clock anyway."""
    return {
        name: value
        for name, value in os.environ.items()
        if name != "LD_PRELOAD" and not name.startswith("FAKETIME")
    }


@contextmanager
def chromium_browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, env=_real_clock_env()
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def browser_page(browser):
    """A fresh page (own cookies) per test."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)  # bounds a failing step only: generous for a loaded machine
    try:
        yield page
    finally:
        context.close()
        wait_server_idle()  # before the test's database flush


@contextmanager
def browser_servers(*, worker: bool = False):
    """Live server and Chromium (with `worker`, a Celery worker between them), shared by a test
    module's tests: each test brings its own data and browser page."""
    with pytest.MonkeyPatch.context() as patch, ExitStack() as started:
        # Playwright's sync API runs an event loop in this thread; the ORM calls the test
        # makes between browser steps are still plain synchronous code.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        url = started.enter_context(live_server())
        if worker:
            started.enter_context(celery_worker(public_url=url))
        browser = started.enter_context(chromium_browser())
        yield {"url": url, "browser": browser}


@contextmanager
def signed_in_page(servers, username: str, password: str, *, board=None, fake_clock: bool = False):
    """A fresh page of `servers`' browser, logged in (then on `board`'s page when given). With
    `fake_clock` the page runs on Playwright's clock: normal speed until a test jumps it forward."""
    with browser_page(servers["browser"]) as page:
        if fake_clock:
            page.clock.install()
        log_in(page, servers["url"], username, password)
        if board is not None:
            open_board(page, servers["url"], board)
        yield page


def log_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/?next=/boards/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/boards/")


def wait_ready(page) -> None:
    page.wait_for_selector("#board[data-ready]")


def open_board(page, base_url: str, board) -> None:
    page.goto(f"{base_url}/boards/{board.id}/")
    wait_ready(page)


def card(psa_id: int) -> str:
    """The selector of a ticket's card."""
    return f'.card[data-psa-id="{psa_id}"]'


def snap(page, selector: str, path: str) -> None:
    """A screenshot of one element by its box (live polling may swap the element meanwhile)."""
    box = wait_until(lambda: page.locator(selector).bounding_box())
    page.screenshot(path=path, clip=box)


AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"  # from npm (package.json)
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now, one line per failing node
    (empty when there are none)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    return page.evaluate(
        r"""async (tags) => {
            const result = await axe.run(document, { runOnly: { type: "tag", values: tags } });
            return result.violations.flatMap((v) => v.nodes.map(
                (n) => `${v.id} (${v.impact}): ${n.target.join(" ")}: ${n.failureSummary.replace(/\s+/g, " ")}`));
        }""",
        WCAG_21_AA,
    )


def assert_accessible(page) -> None:
    """No WCAG 2.1 A/AA violation axe-core can find on the page as it is now."""
    found = axe_violations(page)
    assert not found, "axe-core found:\n" + "\n".join(found)


def column_ids(page, index: int) -> list[int]:
    return [
        int(x)
        for x in page.eval_on_selector_all(
            f".column:nth-of-type({index + 1}) .card", "cards => cards.map(c => c.dataset.psaId)"
        )
    ]


def column_of(page, psa_id: int) -> str | None:
    """The column holding the card (None while it is on no column). One query and read in the
    page: a live update may replace the card's element between two calls."""
    return page.evaluate(
        "(id) => document.querySelector(`.card[data-psa-id='${id}']`)?.closest('.column')?.ariaLabel ?? null",
        psa_id,
    )


def drag(page, source_selector: str, target_selector: str, *, above_target: bool = True) -> None:
    """A real mouse drag, slow enough for SortableJS to follow (it listens to native drag events)."""
    source = page.locator(source_selector).bounding_box()
    target = page.locator(target_selector).bounding_box()
    x0, y0 = source["x"] + source["width"] / 2, source["y"] + 12
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 4, y0 + 6, steps=3)
    x1 = target["x"] + target["width"] / 2
    y1 = target["y"] + target["height"] * (0.2 if above_target else 0.8)
    page.mouse.move(x1, y1, steps=30)
    page.mouse.move(x1, y1 + (-2 if above_target else 2), steps=3)
    page.mouse.up()
