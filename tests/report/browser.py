"""Headless Chromium for the report tests: Debian's ``chromium`` driven by Playwright.

``ensure_chromium`` installs the Debian package when ``/usr/bin/chromium`` is missing (root and
apt-get needed; otherwise the caller skips with the reason). Playwright's own browser download
(``playwright install``) is never used: it needs the network and fails here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
LOCAL_SCHEMES = ("file:", "data:", "about:")


def ensure_chromium() -> str | None:
    """Install Debian's chromium if needed; return why it is unavailable, or ``None``."""
    if CHROMIUM.is_file():
        return None
    if os.geteuid() != 0:
        return f"{CHROMIUM} is missing and the tests are not root (cannot apt-get install chromium)"
    if shutil.which("apt-get") is None:
        return f"{CHROMIUM} is missing and there is no apt-get to install Debian's chromium"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return f"{' '.join(command)} failed: {done.stderr.strip()[-300:]}"
    return None if CHROMIUM.is_file() else f"apt-get installed chromium but {CHROMIUM} is missing"


@dataclass(slots=True)
class PageLog:
    """What a page did while it was open."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@contextmanager
def browser() -> Iterator[Any]:
    """A launched headless Chromium (Playwright ``Browser``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@contextmanager
def open_report(instance: Any, path: Path, width: int = 1280) -> Iterator[tuple[Any, PageLog]]:
    """Open ``path`` in a fresh page; every non-local request is aborted and recorded."""
    context = instance.new_context(viewport={"width": width, "height": 900},
                                   java_script_enabled=True)
    page = context.new_page()
    log = PageLog()

    def route(request_route: Any) -> None:
        url = request_route.request.url
        log.requests.append(url)
        if url.startswith(LOCAL_SCHEMES):
            request_route.continue_()
        else:
            log.blocked_requests.append(url)
            request_route.abort()

    context.route("**/*", route)
    page.on("console", lambda message: message.type == "error" and log.console_errors.append(
        message.text))
    page.on("pageerror", lambda error: log.page_errors.append(str(error)))
    page.goto(path.resolve().as_uri(), wait_until="load")
    try:
        yield page, log
    finally:
        context.close()
