"""Browser tests: Playwright's Python client driving Debian's Chromium (/usr/bin/chromium, never a
browser download) against the real stack, served over HTTP on a loopback port.

Without /usr/bin/chromium they are skipped with the reason, except in CI (CI=true), where
.ci/run installs it and its absence is a failure."""

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

CHROMIUM = Path("/usr/bin/chromium")
INSTALLED = CHROMIUM.exists()
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # In CI the tests run and fail on a missing browser (`chromium` below): a skip there would hide
    # a broken install step.
    if INSTALLED or os.environ.get("CI") == "true":
        return
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is not installed (apt-get install chromium)"))


@pytest.fixture
def backend() -> str:
    """One database is enough for what a browser sees: SQLite, the quicker to start."""
    return "sqlite"


@pytest.fixture
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests leave their screenshots for review: under pytest's base temp directory."""
    folder = tmp_path_factory.getbasetemp() / "screenshots"
    folder.mkdir(exist_ok=True)
    return folder


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The running app (its lifespan already started by the platform) on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises why it could not start
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def chromium(user_data: Path, **context: Any) -> AsyncIterator[Any]:
    """The tab of a Chromium with a profile of its own in `user_data` (a persistent context opens
    with one), `context` its options (a viewport)."""
    if not INSTALLED:
        pytest.fail(f"{CHROMIUM} is missing: CI must install it (.ci/run)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch_persistent_context(
            str(user_data), executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS, **context,
        )
        try:
            yield browser.pages[0] if browser.pages else await browser.new_page()
        finally:
            await browser.close()


async def log_in(page: Any, base: str, login: str, password: str) -> None:
    """Signs in on the console's login form, as staff do, and waits for the home page."""
    await page.goto(f"{base}/console/login")
    await page.get_by_label("登录名").fill(login)
    await page.get_by_label("密码", exact=True).fill(password)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(f"{base}/console")
