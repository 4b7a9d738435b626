"""The real-browser harness: headless Chromium from the Debian packages (chromium and
chromium-driver, installed by .ci/browser-deps) driven by Selenium, against `hubao web`
started as its own process on a free loopback port. Screenshots go to
tests/web_browser/screenshots/ (or HUBAO_SCREENSHOTS)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from selenium.webdriver.chrome.options import Options
from selenium.webdriver.remote.webdriver import WebDriver

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("HUBAO_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("HUBAO_CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOTS = Path(os.environ.get("HUBAO_SCREENSHOTS") or ROOT / "tests/web_browser/screenshots")
_LISTENING = re.compile(r"hubao web (http://\S+)")
TODAY = "2023-07-10"


class WebServer:
    """A running `hubao web` process; ``url`` ends with '/'."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.env = {
            **os.environ,
            "HUBAO_DATA_DIR": str(data_dir),
            "HUBAO_TODAY": TODAY,
            "HUBAO_SECRET_KEY": "browser-tests-secret-key-0123456789",
            **(env or {}),
        }
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self, *args: str) -> WebServer:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "web", "--port", "0", *args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + 60
        seen: list[str] = []
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            seen.append(line)
            if found := _LISTENING.search(line):
                self.url = found.group(1)
                # Keep reading its output so a full pipe never blocks the server.
                self._drain = subprocess.Popen(
                    ["cat"], stdin=self.process.stdout, stdout=subprocess.DEVNULL
                )
                with urllib.request.urlopen(self.url + "healthz", timeout=10) as answer:
                    assert answer.read() == b"ok"
                return self
        self.stop()
        raise AssertionError("hubao web did not start:\n" + "".join(seen))

    def run_cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """Another `hubao` command on the same data folder (e.g. `web add-user`)."""
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def chrome_options(width: int, height: int, downloads: Path) -> Options:
    options = Options()
    options.binary_location = CHROMIUM
    # Without the background-networking flags Chromium keeps calling out to Google's
    # hosts, which a closed network refuses.
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    return options


def screenshot(driver: WebDriver, name: str) -> Path:
    """Save the page as tests/web_browser/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    assert driver.save_screenshot(str(path)), f"screenshot {name} not saved"
    return path


def as_phone(driver: WebDriver, width: int = 360, height: int = 740) -> None:
    """Show pages as a phone's screen does. Chromium keeps a window at least 500 px wide
    even headless, so the screen is emulated, as the developer tools' device mode does."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True},
    )
