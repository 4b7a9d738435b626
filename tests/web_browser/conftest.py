"""Fixtures of the real-browser tests (see harness.py): `web_server` starts `hubao web`,
`browser_factory` opens headless Chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from web_browser.harness import CHROMEDRIVER, CHROMIUM, WebServer, chrome_options


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[Callable[..., WebServer]]:
    """Start `hubao web` (call it; stopped after the test). Several may share a data
    folder or a database (pass ``env``)."""
    started: list[WebServer] = []

    def start(
        *args: str, data_dir: Path | None = None, env: dict[str, str] | None = None
    ) -> WebServer:
        server = WebServer(data_dir or tmp_path / "data", env).start(*args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def browser_factory(tmp_path: Path) -> Iterator[Callable[..., WebDriver]]:
    """Open a headless Chromium (call with width/height; default a desktop window).
    Downloads land in ``driver.downloads`` (a folder)."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail(
            "Chromium is not installed: run `bash .ci/browser-deps` (Debian "
            "packages chromium and chromium-driver)"
        )
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not download drivers
    drivers: list[WebDriver] = []

    def open_browser(width: int = 1280, height: int = 900) -> WebDriver:
        downloads = tmp_path / f"downloads-{len(drivers)}"
        downloads.mkdir()
        driver = webdriver.Chrome(
            options=chrome_options(width, height, downloads), service=Service(CHROMEDRIVER)
        )
        driver.downloads = downloads  # type: ignore[attr-defined]
        drivers.append(driver)
        return driver

    yield open_browser
    for driver in drivers:
        driver.quit()
