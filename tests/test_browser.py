"""End to end in headless Chromium: ask, read the answer and its citations, open a source,
give feedback, export the transcript, and find the conversation again after a restart.

Needs Debian's `chromium` and `chromium-driver` (installed by .ci/run); the screenshot is
written to tests/artifacts/chat.png.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.answering.engine import Engine
from bot.transcripts import TranscriptStore
from bot.workspace import Workspace
from tests.servers import free_port
from ui.app import launch

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).parent / "artifacts"
QUESTION = "Are the weights of Mistral Medium 3 open?"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1700",
]

HAVE_BROWSER = Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()
# CI sets this, so that a machine without the browser fails instead of skipping the test.
REQUIRED = os.environ.get("PROCUREBOT_TEST_REQUIRE_BROWSER") == "1"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not HAVE_BROWSER and not REQUIRED,
        reason="Debian's chromium and chromium-driver are not installed (make test installs them)",
    ),
]


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # selenium must never fetch a driver
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="procurebot-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(condition: Callable[[], Any], seconds: float = 60, what: str = "") -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            result = condition()
        except Exception:  # the page is still rendering: elements come and go
            result = None
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what or condition}")


def by_css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def choose_radio(driver: Any, container: str, text: str) -> None:
    label = wait_for(
        lambda: next(x for x in by_css(driver, f"#{container} label") if text in x.text),
        what=f"{text!r} in #{container}",
    )
    label.click()


def test_a_buyer_asks_checks_a_source_gives_feedback_exports_and_comes_back(
    engine: Engine, tmp_path: Path, browser: Any
) -> None:
    transcripts = tmp_path / "transcripts.sqlite"
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    app = launch(Workspace(engine, TranscriptStore(transcripts)), "127.0.0.1", port, block=False)
    try:
        browser.get(url)
        box = wait_for(lambda: by_css(browser, "#pb-question textarea")[0], what="question box")
        box.send_keys(QUESTION)
        by_css(browser, "#pb-ask")[0].click()
        chat = wait_for(
            lambda: (
                by_css(browser, "#pb-chat")[0]
                if "Sources" in by_css(browser, "#pb-chat")[0].text
                else None
            ),
            what="the answer with its sources",
        )
        assert QUESTION in chat.text
        assert "offline, extractive" in by_css(browser, "#pb-backend")[0].text
        assert "The sources disagree" in by_css(browser, "#pb-conflict")[0].text

        saved = TranscriptStore(transcripts).conversations()[0]
        answer = TranscriptStore(transcripts).conversation(saved.id).turns[0].answer
        assert answer is not None and answer.citations
        chips = wait_for(lambda: by_css(browser, "#pb-chips label"), what="citation chips")
        assert [c.text.split("]")[0] + "]" for c in chips] == [f"[{c.n}]" for c in answer.citations]
        chips[0].click()
        mark = wait_for(lambda: by_css(browser, "#pb-source mark")[0], what="highlighted quote")
        first = answer.citations[0]
        assert " ".join(mark.text.split()) == " ".join(first.quote.split())
        meta = by_css(browser, "#pb-source .pb-meta")[0].text
        assert first.kind in meta and (first.date or "undated") in meta
        assert first.title in by_css(browser, "#pb-source h3")[0].text

        choose_radio(browser, "pb-rating", "Not right")
        by_css(browser, "#pb-comment textarea")[0].send_keys("Show the vendor page first")
        by_css(browser, "#pb-send-feedback")[0].click()
        wait_for(
            lambda: "Feedback saved" in by_css(browser, "#pb-feedback-status")[0].text,
            what="feedback saved",
        )
        ARTIFACTS.mkdir(exist_ok=True)
        browser.execute_script("window.scrollTo(0, 0)")
        browser.save_screenshot(str(ARTIFACTS / "chat.png"))

        choose_radio(browser, "pb-format", "Markdown")
        by_css(browser, "#pb-export")[0].click()
        link = wait_for(lambda: by_css(browser, "#pb-download a")[0], what="download link")
        link.click()
        exported = wait_for(
            lambda: next(iter(browser.downloads.glob("procurebot-conversation-*.md")), None),
            what="the downloaded transcript",
        )
        text = wait_for(lambda: exported.read_text(encoding="utf-8"), what="file content")
        assert QUESTION in text and first.source in text and first.sha256 in text
        assert "Show the vendor page first" in text and "Not reviewed" in text
    finally:
        app.close()

    # A restart: a new server over the same transcript database, on the same address.
    app = launch(Workspace(engine, TranscriptStore(transcripts)), "127.0.0.1", port, block=False)
    try:
        browser.get(url)
        chat = wait_for(
            lambda: (
                by_css(browser, "#pb-chat")[0]
                if QUESTION in by_css(browser, "#pb-chat")[0].text
                else None
            ),
            what="the conversation reopened after the restart",
        )
        assert "Sources" in chat.text
        browser.save_screenshot(str(ARTIFACTS / "after-restart.png"))
    finally:
        app.close()
