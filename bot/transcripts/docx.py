"""The reviewer's Word document of a conversation, and the plain-text lines it shares with
the Markdown export (`bot.transcripts.exports`): the same wording for a review, a feedback,
a run, a source.

python-docx is imported only when a document is written. Text from people and documents goes
in as plain runs (python-docx escapes XML); characters XML 1.0 forbids (control characters other
than tab and line breaks) are removed first, since no Word document can hold them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.answering.answers import Answer, Citation
from bot.answering.layout import BOLD, CODE, answer_lines, opinions_of, span_text
from bot.transcripts.types import Conversation, Feedback, Review, RunInfo, Turn, now

if TYPE_CHECKING:
    from docx.document import Document
    from docx.table import _Cell

SIGN_OFF = ("Approved", "Needs correction", "Not reviewed")
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

# A run of a paragraph: its text and whether it is bold.
Part = tuple[str, bool]


def xml_text(text: str) -> str:
    """`text` without the characters an XML 1.0 document cannot contain."""
    return _XML_FORBIDDEN.sub("", text)


def shared_run(conversation: Conversation) -> RunInfo | None:
    """The run every question shares (shown once), or None when they differ."""
    runs = [turn.run for turn in conversation.turns]
    return runs[0] if runs and all(run == runs[0] for run in runs) else None


def distinct(values: Iterable[str]) -> str:
    """The distinct values, in order of appearance, comma-separated."""
    return ", ".join(dict.fromkeys(values)) or "—"


def parameters_text(parameters: dict[str, Any]) -> str:
    return json.dumps(parameters, sort_keys=True, ensure_ascii=False, default=str)


def run_text(run: RunInfo) -> str:
    return (
        f"{run.backend} / {run.model}, parameters {parameters_text(run.parameters)}, "
        f"corpus {run.corpus_fingerprint}, version {run.app_version}"
    )


def kind_text(citation: Citation) -> str:
    kind = f"{citation.kind} (opinion)" if citation.opinion else citation.kind
    return f"{kind}, {citation.date or 'undated'}"


def review_text(review: Review | None) -> str:
    """Not reviewed, Approved by X on date, or Needs correction by X on date: note."""
    if review is None:
        return "Not reviewed"
    verdict = "Approved" if review.status == "approved" else "Needs correction"
    note = f": {review.note}" if review.note else ""
    return f"{verdict} by {review.reviewer} on {review.reviewed_at}{note}"


def feedback_text(feedback: Feedback) -> str:
    thumb = "👍" if feedback.rating == "up" else "👎"
    reason = f" — {feedback.reason}" if feedback.reason else ""
    comment = f": {feedback.comment}" if feedback.comment else ""
    return f"{thumb} {feedback.user}, {feedback.created_at}{reason}{comment}"


def status_text(turn: Turn) -> str:
    if turn.status == "failed":
        return f"Failed: {turn.error or 'no reason was recorded'}"
    return "Pending: no answer was recorded (interrupted, or still being answered)."


def conflict_sides(claims: Iterable[tuple[int, str]]) -> dict[str, list[int]]:
    """Each distinct claim with the numbers of the citations that make it."""
    sides: dict[str, list[int]] = {}
    for n, claim in claims:
        sides.setdefault(claim, []).append(n)
    return sides


def write_docx(conversation: Conversation, path: Path) -> None:
    """Write the reviewer's document for `conversation` to `path` (.docx)."""
    from docx import Document as new_document

    document = new_document()
    title = conversation.title or "untitled"
    document.core_properties.title = xml_text(title)[:255]
    document.add_heading(xml_text(f"Conversation: {title}"), level=0)
    run = shared_run(conversation)
    _metadata(document, conversation, run)
    for turn in conversation.turns:
        _turn(document, turn, show_run=run is None)
    document.save(str(path))


def _paragraph(container: Document | _Cell, *parts: Part, style: str | None = None) -> None:
    paragraph = container.add_paragraph(style=style)
    for text, bold in parts:
        paragraph.add_run(xml_text(text)).bold = bold


def _metadata(document: Document, conversation: Conversation, run: RunInfo | None) -> None:
    runs = [turn.run for turn in conversation.turns]
    rows = [
        ("Conversation", conversation.id),
        ("User", conversation.user),
        ("Created", conversation.created_at),
        ("Updated", conversation.updated_at),
        ("Exported", now()),
        ("Backend / model", f"{run.backend} / {run.model}" if run else "see each question"),
        ("Parameters", parameters_text(run.parameters) if run else "see each question"),
        ("Corpus fingerprint", distinct(r.corpus_fingerprint for r in runs)),
        ("App version", distinct(r.app_version for r in runs)),
    ]
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].text = label
        cells[1].text = xml_text(value)


def _turn(document: Document, turn: Turn, show_run: bool) -> None:
    document.add_heading(f"Question {turn.position}", level=1)
    answered = f", {turn.status} {turn.answered_at}" if turn.answered_at else ""
    _paragraph(document, (f"Asked by {turn.user} on {turn.asked_at}{answered}", False))
    if show_run:
        _paragraph(document, ("Run: ", True), (run_text(turn.run), False))
    _paragraph(document, ("Question: ", True), (turn.question, False))
    if turn.answer is None:
        _paragraph(document, ("Status: ", True), (status_text(turn), False))
    else:
        _answer(document, turn.answer, turn.question)
        if turn.answer.citations:
            _sources(document, turn.answer)
    _review(document, turn)


def _answer(document: Document, answer: Answer, question: str) -> None:
    if answer.rewritten_query and answer.rewritten_query != question:
        _paragraph(document, ("Rewritten query: ", True), (answer.rewritten_query, False))
    label = "Answer:" if answer.grounded else "Answer — The documents don't say:"
    _paragraph(document, (label, True))
    _answer_text(document, answer)
    if answer.incomplete:
        _paragraph(document, ("Warning: the answer was cut off before its end.", True))
    for notice in answer.notices:
        _paragraph(document, ("Notice: ", True), (notice, False))
    for conflict in answer.conflicts:
        sides = conflict_sides((claim.n, claim.claim) for claim in conflict.claims)
        said = "; ".join(
            f"{claim} ({', '.join(f'[{n}]' for n in numbers)})" for claim, numbers in sides.items()
        )
        _paragraph(document, (f"Sources disagree on {conflict.topic}: ", True), (said, False))


def _answer_text(document: Document, answer: Answer) -> None:
    """The answer's lines (`bot.answering.layout`): list items as Word list paragraphs, bold as
    bold, quotes and words as plain runs."""
    opinions = opinions_of(answer)
    for line in answer_lines(answer):
        if not line.spans:
            continue
        style = None
        if line.bullet:
            style = "List Bullet" if line.depth == 0 else f"List Bullet {min(line.depth + 1, 3)}"
        paragraph = document.add_paragraph(style=style)
        for span in line.spans:
            run = paragraph.add_run(xml_text(span_text(span, opinions)))
            run.bold = span.style == BOLD or span.strong
            if span.style == CODE:
                run.font.name = "Courier New"


def _sources(document: Document, answer: Answer) -> None:
    """Each citation as a block a reviewer reads down: its number and quote, then where it is
    from (title · kind · date · file · span) and the file's SHA-256."""
    document.add_heading("Sources", level=2)
    for citation in answer.citations:
        _paragraph(document, (f"[{citation.n}] ", True), (citation.quote, False), style="Quote")
        _paragraph(document, (source_line(citation), False), style="Caption")


def source_line(citation: Citation) -> str:
    """Where a quote is from, on one line: title · kind · date · file · span · SHA-256."""
    kind = f"{citation.kind} (opinion)" if citation.opinion else citation.kind
    return " · ".join(
        [
            citation.title,
            kind,
            citation.date or "undated",
            citation.source,
            citation.where,
            f"SHA-256 {citation.sha256}",
        ]
    )


def _review(document: Document, turn: Turn) -> None:
    _paragraph(document, ("Review: ", True), (review_text(turn.review), False))
    for review in turn.reviews[:-1]:
        _paragraph(document, ("Earlier review: ", False), (review_text(review), False))
    current = turn.review.status if turn.review else "not reviewed"
    boxes = "   ".join(f"{'☒' if label.lower() == current else '☐'} {label}" for label in SIGN_OFF)
    _paragraph(
        document,
        ("Reviewer's sign-off: ", True),
        (f"{boxes}    Name: ____________________    Date: ____________", False),
    )
    for feedback in turn.feedback:
        _paragraph(document, ("Feedback: ", True), (feedback_text(feedback), False))
    if not turn.feedback:
        _paragraph(document, ("Feedback: ", True), ("none", False))
