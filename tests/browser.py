"""Debian's Chromium, headless, driven by Python Playwright (no browser download): what the
web app's and GraphiQL's tests run in. `make test` installs Chromium and names it in
COOP_TEST_CHROMIUM (scripts/ensure-chromium.sh); without it those tests are skipped only
when run outside `make test` (CI always has it)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

# Without the background-networking flags Chromium keeps trying Google's hosts, which a
# closed network refuses; --no-sandbox because CI runs as root.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Where tests save screenshots (test artifacts, kept after the run).
ARTIFACTS = Path(os.environ.get("COOP_TEST_ARTIFACTS", "/tmp/carriercoop-test-artifacts"))


def chromium_path() -> str:
    """The Chromium binary; skips the test if there is none and `make test` did not ask."""
    found = os.environ.get("COOP_TEST_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    return found


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium for one test module or test."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot_path(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"
