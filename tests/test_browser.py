"""End to end in headless Chromium, every tab as people use it: ask and follow up, read the
answer (rendered lists and bold, no maths, no literal "**"), open a source, rate answers with
the thumbs and the form (both in the export), review (the list is there on open, a verdict
says it was saved), answer a questionnaire and download it, keep the conversation through a
server restart with the page left open, and upload a document, get it quoted, and remove it
after confirming.

Needs Debian's `chromium` and `chromium-driver` (installed by .ci/run); a screenshot per tab is
written to tests/artifacts/ (chat.png, review.png, questionnaires.png, documents.png,
after-restart.png).
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
from bot.transcripts.store import TranscriptStore
from bot.workspace.service import Workspace
from tests.servers import free_port
from ui.app import launch

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).parent / "artifacts"
QUESTION = "Are the weights of Mistral Medium 3 open?"
FOLLOW_UP = "What does it cost per million output tokens?"
AFTER_RESTART = "Which clouds offer it?"
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


def click_text(driver: Any, selector: str, text: str) -> None:
    """Click the first element matching `selector` whose text holds `text`."""
    wait_for(
        lambda: next(x for x in by_css(driver, selector) if text in x.text),
        what=f"{text!r} in {selector}",
    ).click()


def choose_option(driver: Any, container: str, text: str) -> None:
    """Pick an option of a Gradio dropdown by its shown text."""
    by_css(driver, f"#{container} input")[0].click()
    click_text(driver, "li[role=option]", text)


def text_of(driver: Any, elem_id: str) -> str:
    found = by_css(driver, f"#{elem_id}")
    return str(found[0].text) if found else ""


def shot(driver: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def ask(driver: Any, question: str, answers: int) -> Any:
    """Type a question, send it, wait for answer number `answers` with its sources."""
    box = wait_for(lambda: by_css(driver, "#pb-question textarea")[0], what="question box")
    box.send_keys(question)
    by_css(driver, "#pb-ask")[0].click()
    return wait_for(
        lambda: (
            by_css(driver, "#pb-chat")[0]
            if len(by_css(driver, "#pb-chat .message-row.bot-row, #pb-chat .bot")) >= answers
            and text_of(driver, "pb-chat").count("Sources") >= answers
            else None
        ),
        seconds=120,
        what=f"answer {answers} with its sources",
    )


def open_tab(driver: Any, name: str) -> None:
    click_text(driver, "button[role='tab']", name)


def test_a_buyer_and_a_reviewer_use_every_tab_and_keep_the_conversation_through_a_restart(
    engine: Engine, tmp_path: Path, browser: Any
) -> None:
    transcripts = tmp_path / "transcripts.sqlite"
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    app = launch(Workspace(engine, TranscriptStore(transcripts)), "127.0.0.1", port, block=False)
    try:
        browser.get(url)
        _chat(browser, transcripts)
        _review(browser)
        _questionnaire(browser, tmp_path)
    finally:
        app.close()
    open_tab(browser, "Chat")

    def away() -> bool:  # looked up each time: the page may be drawn again
        return bool(by_css(browser, "#pb-away")[0].is_displayed())

    wait_for(away, what="the page saying the server is away")
    shot(browser, "server-away")
    # A restart with the page left open: a new server over the same transcripts, same address.
    app = launch(Workspace(engine, TranscriptStore(transcripts)), "127.0.0.1", port, block=False)
    try:
        # Gradio may also reload the page once the server is back: either way the next
        # question continues the conversation (`ui.chat_session.resumed` or the restore on load).
        wait_for(lambda: not away(), what="the note gone once the server is back")
        wait_for(lambda: QUESTION in text_of(browser, "pb-chat"), what="the chat still there")
        ask(browser, AFTER_RESTART, answers=3)
        (only,) = TranscriptStore(transcripts).conversations()  # continued, not forked
        turns = TranscriptStore(transcripts).conversation(only.id).turns
        assert [t.question for t in turns] == [QUESTION, FOLLOW_UP, AFTER_RESTART]
        wait_for(lambda: "Answer 3" in text_of(browser, "pb-feedback-for"), what="form on 3")
        shot(browser, "after-restart")
        browser.refresh()  # a reload reopens it, with the form on its last answer
        wait_for(lambda: AFTER_RESTART in text_of(browser, "pb-chat"), what="reopened on reload")
        wait_for(lambda: "Answer 3" in text_of(browser, "pb-feedback-for"), what="form reloaded")
    finally:
        app.close()


def _chat(browser: Any, transcripts: Path) -> None:
    chat = ask(browser, QUESTION, answers=1)
    assert QUESTION in chat.text
    assert "offline, extractive" in by_css(browser, "#pb-backend")[0].text
    assert "The sources disagree" in by_css(browser, "#pb-conflict")[0].text
    # The answer's own structure is rendered: list items and bold, no markup characters.
    assert by_css(browser, "#pb-chat li") and by_css(browser, "#pb-chat strong")
    assert not by_css(browser, "#pb-chat .katex, #pb-chat math")
    assert "\\-" not in chat.text and "**" not in chat.text  # sources folded: quotes as written

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

    # The thumbs under answer 1 save a rating at once; the form then rates answer 2.
    by_css(browser, "#pb-chat button[aria-label='Like']")[0].click()
    wait_for(
        lambda: "Feedback saved for answer 1" in text_of(browser, "pb-feedback-status"),
        what="the thumb saved",
    )
    ask(browser, FOLLOW_UP, answers=2)
    wait_for(lambda: "Answer 2" in text_of(browser, "pb-feedback-for"), what="form on answer 2")
    choose_radio(browser, "pb-rating", "Not right")
    by_css(browser, "#pb-comment textarea")[0].send_keys("Show the vendor page first")
    by_css(browser, "#pb-send-feedback")[0].click()
    wait_for(
        lambda: "Feedback saved for answer 2" in text_of(browser, "pb-feedback-status"),
        what="the form saved",
    )
    shot(browser, "chat")
    choose_radio(browser, "pb-format", "Markdown")
    by_css(browser, "#pb-export")[0].click()
    link = wait_for(lambda: by_css(browser, "#pb-download a")[0], what="download link")
    link.click()
    exported = wait_for(
        lambda: next(iter(browser.downloads.glob("procurebot-conversation-*.md")), None),
        what="the downloaded transcript",
    )
    text = wait_for(lambda: exported.read_text(encoding="utf-8"), what="file content")
    assert QUESTION in text and FOLLOW_UP in text and first.sha256 in text
    assert "👍 local" in text and "👎 local" in text  # the thumb on 1, the form on 2
    assert "Show the vendor page first" in text


def _review(browser: Any) -> None:
    open_tab(browser, "Review")
    wait_for(  # listed when the page opened, without pressing Search
        lambda: QUESTION in text_of(browser, "pb-r-table"), what="the conversation listed"
    )
    choose_option(browser, "pb-r-open", QUESTION[:30])
    wait_for(lambda: FOLLOW_UP in text_of(browser, "pb-r-transcript"), what="the transcript")
    choose_option(browser, "pb-r-answer", f"Answer 2: {FOLLOW_UP}")
    choose_radio(browser, "pb-r-status", "approved")
    by_css(browser, "#pb-r-save")[0].click()
    wait_for(
        lambda: "answer 2 marked approved" in text_of(browser, "pb-r-saved"),
        what="the verdict saved",
    )
    wait_for(  # the list counts it, and the conversation stays open
        lambda: text_of(browser, "pb-r-table").split("\n")[-1].strip().endswith("1"),
        what="the reviewed count",
    )
    assert FOLLOW_UP in text_of(browser, "pb-r-transcript")
    shot(browser, "review")


def _questionnaire(browser: Any, tmp_path: Path) -> None:
    open_tab(browser, "Questionnaires")
    sheet = tmp_path / "vendor-questions.csv"
    sheet.write_text(
        "Question\nWhat does Mistral Medium 3 cost per million input tokens?\n"
        "Who won the 2022 FIFA World Cup?\n",
        encoding="utf-8",
    )
    by_css(browser, "#pb-q-upload input[type=file]")[0].send_keys(str(sheet))
    wait_for(
        lambda: by_css(browser, "#pb-q-upload td[aria-label='vendor-questions.csv']"),
        what="the sheet chosen",
    )
    by_css(browser, "#pb-q-run")[0].click()
    link = wait_for(
        lambda: by_css(browser, "#pb-q-files a[download$='-answered.xlsx']")[0],
        seconds=180,
        what="the answered sheet",
    )
    summary = text_of(browser, "pb-q-summary")
    assert "Answered 2 questions: 1 with sources, 1 not answered by the documents" in summary
    link.click()
    wait_for(lambda: next(iter(browser.downloads.glob("*.xlsx")), None), what="the answered sheet")
    shot(browser, "questionnaires")


def test_a_document_is_uploaded_quoted_and_removed_after_confirming(
    tmp_path: Path, browser: Any
) -> None:
    from tests.conftest import engine_over

    engine = engine_over(
        tmp_path, {"offer.md": "# Offer\n\nOrca Cloud support costs 4,200 EUR per year.\n"}
    )
    upload = tmp_path / "terms.md"
    upload.write_text(
        "# Hosting terms\n\nOrca Cloud keeps customer data in Frankfurt, Germany.\n",
        encoding="utf-8",
    )
    port = free_port()
    app = launch(
        Workspace(engine, TranscriptStore(tmp_path / "t.sqlite")), "127.0.0.1", port, block=False
    )
    try:
        browser.get(f"http://127.0.0.1:{port}/")
        open_tab(browser, "Documents")
        notes = tmp_path / "notes.md"
        notes.write_text("# Notes\n\nOrca Cloud support answers within four hours.\n", "utf-8")
        by_css(browser, "#pb-d-upload input[type=file]")[0].send_keys(f"{upload}\n{notes}")
        wait_for(
            lambda: by_css(browser, "#pb-d-upload td[aria-label='notes.md']"), what="files chosen"
        )
        by_css(browser, "#pb-d-add")[0].click()
        wait_for(lambda: "Added" in text_of(browser, "pb-d-outcome"), seconds=120, what="added")
        assert "Hosting terms" in text_of(browser, "pb-d-table")
        shot(browser, "documents")

        open_tab(browser, "Chat")
        chat = ask(browser, "Where does Orca Cloud keep customer data?", answers=1)
        assert "Frankfurt" in chat.text
        click_text(browser, "#pb-chat summary", "Sources")  # folded until opened
        wait_for(lambda: "uploads/terms.md" in text_of(browser, "pb-chat"), what="its source")

        open_tab(browser, "Documents")
        choose_option(browser, "pb-d-remove", "uploads/terms.md")
        by_css(browser, "#pb-d-remove-btn")[0].click()
        wait_for(  # nothing is removed before the person confirms
            lambda: "uploads/terms.md" in text_of(browser, "pb-d-confirm-text"), what="asked"
        )
        assert "Hosting terms" in text_of(browser, "pb-d-table")
        shot(browser, "documents-remove")
        choose_option(browser, "pb-d-remove", "uploads/notes.md")  # another file: asked again
        wait_for(lambda: not by_css(browser, "#pb-d-confirm-text"), what="the question withdrawn")
        assert (engine.settings.uploads_dir / "terms.md").exists()
        choose_option(browser, "pb-d-remove", "uploads/terms.md")
        by_css(browser, "#pb-d-remove-btn")[0].click()
        wait_for(
            lambda: "uploads/terms.md" in text_of(browser, "pb-d-confirm-text"), what="asked again"
        )
        by_css(browser, "#pb-d-remove-yes")[0].click()
        wait_for(lambda: "Removed" in text_of(browser, "pb-d-outcome"), seconds=120, what="gone")
        assert "Hosting terms" not in text_of(browser, "pb-d-table")
        assert not (engine.settings.uploads_dir / "terms.md").exists()
        assert (engine.settings.uploads_dir / "notes.md").exists()  # only what was confirmed
    finally:
        app.close()
