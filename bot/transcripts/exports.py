"""A conversation exported for review: Markdown, JSON and a reviewer's Word document.

Everything a reviewer needs to judge an answer travels with it: the question and the rewritten
query, the answer, each citation's file, span, verbatim quote and file hash, the backend, model
and parameters, the corpus fingerprint, timestamps, feedback and the review status.

- JSON is the lossless format; its shape is `TranscriptExport`, whose field descriptions are
  the schema documentation (`json_schema()`).
- Markdown is for reading: text that came from people or documents is content, not markup, so
  it is escaped (HTML entities, Markdown punctuation) and shows inert.
- The Word document (`bot.transcripts.docx`) is what a reviewer annotates and signs.
"""

from __future__ import annotations

import json
import re
from contextlib import suppress
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.answering.answers import Answer, Citation
from bot.answering.layout import as_markdown, escape, escape_lines
from bot.answering.layout import code_span as _code
from bot.errors import ProcurebotError
from bot.transcripts.docx import (
    conflict_sides,
    distinct,
    feedback_text,
    kind_text,
    parameters_text,
    review_text,
    run_text,
    shared_run,
    status_text,
    write_docx,
)
from bot.transcripts.types import Conversation, Review, RunInfo, Turn, now

FORMATS = ("md", "json", "docx")


class ExportError(ProcurebotError):
    """A conversation cannot be exported (unknown format, folder not writable)."""


# --- JSON ---------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConversationExport(_Model):
    """The conversation the questions belong to."""

    id: str = Field(description="The conversation's id.")
    user: str = Field(description="Who started the conversation.")
    title: str = Field(description="The conversation's title (its first question by default).")
    created_at: str = Field(description="When the conversation started (ISO 8601, UTC).")
    updated_at: str = Field(description="When its last question was asked (ISO 8601, UTC).")


class RunExport(_Model):
    """What produced an answer: enough to reproduce it or to judge it later."""

    backend: str = Field(description='The answering backend ("extractive" or "mistral").')
    model: str = Field(description="The model that wrote the answer.")
    parameters: dict[str, Any] = Field(description="Settings it ran with (top_k, temperature…).")
    corpus_fingerprint: str = Field(description="Fingerprint of the indexed documents.")
    app_version: str = Field(description="The procurebot version that answered.")


class AnswerExport(_Model):
    """The answer as it was shown."""

    text: str = Field(description="The answer; its [n] markers refer to `citations` by `n`.")
    grounded: bool = Field(description="False when the answer is that the documents don't say.")
    language: str = Field(description="Language of the question and answer (ISO 639-1).")
    incomplete: bool = Field(description="True when the answer was cut off before its end.")
    notices: list[str] = Field(description="Notices shown with it (a shortened question…).")
    latency_ms: float = Field(description="Time from question to complete answer, milliseconds.")


class CitationExport(_Model):
    """A verbatim quote: the text of `source` from `start` to `end` is exactly `quote`."""

    n: int = Field(description="The citation's number, as in the answer's [n] markers.")
    source: str = Field(description="The cited file, relative to the project root.")
    title: str = Field(description="The cited document's title.")
    kind: str = Field(description="Kind of source (vendor-docs, news, community…).")
    date: str | None = Field(description="The document's date (YYYY[-MM[-DD]]), null if undated.")
    opinion: bool = Field(description="True for a community post: an opinion, not a fact.")
    start: int = Field(description="Offset of the quote's first character in the file's text.")
    end: int = Field(description="Offset just past the quote's last character.")
    page: int | None = Field(
        default=None, description="The 1-based page of a PDF where the quote starts, else null."
    )
    quote: str = Field(description="The quoted text, verbatim.")
    sha256: str = Field(
        description="SHA-256 of the cited file's bytes when indexed: another hash, another file."
    )
    chunk_id: str = Field(description="The indexed passage the quote was found in.")


class ClaimExport(_Model):
    """One side of a disagreement."""

    n: int = Field(description="The citation that says it.")
    claim: str = Field(description="What that citation says.")


class ConflictExport(_Model):
    """Cited sources that disagree on one fact, most reliable first."""

    topic: str = Field(description="The fact the sources disagree on.")
    claims: list[ClaimExport] = Field(description="What each citation says about it.")


class FeedbackExport(_Model):
    """A user's thumbs up or down on the answer."""

    user: str = Field(description="Who gave the feedback.")
    rating: Literal["up", "down"] = Field(description="Thumbs up or down.")
    reason: str = Field(
        description='Why: "wrong citation", "outdated", "missing document", "other" or empty.'
    )
    comment: str = Field(description="The user's comment, possibly empty.")
    created_at: str = Field(description="When the feedback was given (ISO 8601, UTC).")


ReviewStatus = Literal["not reviewed", "approved", "needs correction"]


class ReviewExport(_Model):
    """A reviewer's verdict on the answer."""

    status: ReviewStatus = Field(description="The verdict ('not reviewed' if none yet).")
    reviewer: str = Field(description="Who reviewed; empty when not reviewed.")
    note: str = Field(description="The reviewer's note (what needs correcting), possibly empty.")
    reviewed_at: str | None = Field(description="When (ISO 8601, UTC); null if not reviewed.")


class TurnExport(_Model):
    """One question of the conversation, what answered it, and what people said about it."""

    position: int = Field(description="1 for the conversation's first question, then 2, 3…")
    id: str = Field(description="The question's id (feedback and reviews refer to it).")
    user: str = Field(description="Who asked.")
    question: str = Field(description="The question as asked.")
    rewritten_query: str = Field(description="The standalone question retrieval searched.")
    status: Literal["pending", "answered", "failed"] = Field(
        description="'pending' when no answer was recorded; for 'failed' see `error`."
    )
    error: str = Field(description="Why answering failed; empty otherwise.")
    asked_at: str = Field(description="When the question was asked (ISO 8601, UTC).")
    answered_at: str | None = Field(description="When it was answered or failed; null if not.")
    run: RunExport = Field(description="What produced (or was to produce) the answer.")
    answer: AnswerExport | None = Field(description="The answer; null unless answered.")
    citations: list[CitationExport] = Field(description="The quotes the answer cites.")
    conflicts: list[ConflictExport] = Field(description="Disagreements between cited sources.")
    feedback: list[FeedbackExport] = Field(description="Users' feedback on the answer.")
    review: ReviewExport = Field(description="The current review of the answer.")
    review_history: list[ReviewExport] = Field(description="Earlier reviews, oldest first.")


class TranscriptExport(_Model):
    """A procurebot conversation exported for review."""

    schema_version: Literal["1"] = Field(description="Version of this JSON shape.")
    exported_at: str = Field(description="When the export was made (ISO 8601, UTC).")
    conversation: ConversationExport = Field(description="The conversation.")
    turns: list[TurnExport] = Field(description="Its questions, in the order they were asked.")


def json_schema() -> dict[str, Any]:
    """The JSON Schema of `to_json`'s output, documented field by field."""
    return TranscriptExport.model_json_schema()


def to_json(conversation: Conversation) -> dict[str, Any]:
    """The conversation as the documented JSON shape `TranscriptExport`, validated."""
    export = TranscriptExport(
        schema_version="1",
        exported_at=now(),
        conversation=ConversationExport.model_validate(conversation, from_attributes=True),
        turns=[_turn_json(turn) for turn in conversation.turns],
    )
    return export.model_dump(mode="json")


def _turn_json(turn: Turn) -> TurnExport:
    answer = turn.answer
    return TurnExport.model_validate(
        {
            "position": turn.position,
            "id": turn.id,
            "user": turn.user,
            "question": turn.question,
            "rewritten_query": answer.rewritten_query if answer else "",
            "status": turn.status,
            "error": turn.error or "",
            "asked_at": turn.asked_at,
            "answered_at": turn.answered_at,
            "run": vars(turn.run),
            "answer": _answer_json(answer) if answer else None,
            "citations": [vars(c) for c in answer.citations] if answer else [],
            "conflicts": answer.to_json()["conflicts"] if answer else [],
            "feedback": [vars(f) for f in turn.feedback],
            "review": _review_json(turn.review),
            "review_history": [_review_json(r) for r in turn.reviews[:-1]],
        }
    )


def _answer_json(answer: Answer) -> dict[str, Any]:
    return {
        "text": answer.answer,
        "grounded": answer.grounded,
        "language": answer.language,
        "incomplete": answer.incomplete,
        "notices": list(answer.notices),
        "latency_ms": round(answer.latency_ms, 1),
    }


def _review_json(review: Review | None) -> dict[str, Any]:
    if review is None:
        return {"status": "not reviewed", "reviewer": "", "note": "", "reviewed_at": None}
    return vars(review)


# --- Markdown -----------------------------------------------------------------------------


def _inline(text: str) -> str:
    return escape(" ".join(text.split()))


def _quote(text: str) -> str:
    return "  \n".join(f"> {line}".rstrip() for line in escape_lines(text))


def to_markdown(conversation: Conversation) -> str:
    """The conversation as a Markdown document for reviewers."""
    run = shared_run(conversation)
    parts = [_md_header(conversation, run)]
    parts += [_md_turn(turn, show_run=run is None) for turn in conversation.turns]
    return "\n\n".join(parts) + "\n"


def _md_header(conversation: Conversation, run: RunInfo | None) -> str:
    runs = [turn.run for turn in conversation.turns]
    lines = [
        f"# Conversation: {_inline(conversation.title) or 'untitled'}",
        "",
        f"- **Conversation:** {_code(conversation.id)}",
        f"- **User:** {_inline(conversation.user)}",
        f"- **Created:** {_inline(conversation.created_at)}",
        f"- **Updated:** {_inline(conversation.updated_at)}",
        f"- **Exported:** {now()}",
        f"- **App version:** {_inline(distinct(r.app_version for r in runs))}",
        f"- **Corpus fingerprint:** {_inline(distinct(r.corpus_fingerprint for r in runs))}",
    ]
    if run is None:
        lines.append("- **Backend / model:** differ between questions (see each question)")
    else:
        lines.append(f"- **Backend / model:** {_inline(f'{run.backend} / {run.model}')}")
        lines.append(f"- **Parameters:** {_code(parameters_text(run.parameters))}")
    return "\n".join(lines)


def _md_turn(turn: Turn, show_run: bool) -> str:
    answered = f", {turn.status} {turn.answered_at}" if turn.answered_at else ""
    parts = [
        f"## Question {turn.position}",
        f"Asked by {_inline(turn.user)} on {_inline(turn.asked_at + answered)}.",
    ]
    if show_run:
        parts.append(f"**Run:** {_inline(run_text(turn.run))}")
    parts.append(f"**Question:** {escape(turn.question)}")
    if turn.answer is None:
        parts.append(f"**Status:** {escape(status_text(turn))}")
    else:
        parts += _md_answer(turn.answer, turn.question)
    parts += _md_review(turn)
    return "\n\n".join(parts)


def _md_answer(answer: Answer, question: str) -> list[str]:
    parts = []
    if answer.rewritten_query and answer.rewritten_query != question:
        parts.append(f"**Rewritten query:** {escape(answer.rewritten_query)}")
    if answer.grounded:
        parts.append(f"**Answer:**\n\n{as_markdown(answer)}")
    else:
        parts.append(f"**Answer — The documents don't say:**\n\n{as_markdown(answer)}")
    if answer.incomplete:
        parts.append("**Warning:** the answer was cut off before its end.")
    if answer.notices:
        parts.append("**Notices:**\n\n" + "\n".join(f"- {_inline(n)}" for n in answer.notices))
    for conflict in answer.conflicts:
        sides = conflict_sides((claim.n, claim.claim) for claim in conflict.claims)
        lines = [
            f"- {_inline(claim)}: {', '.join(f'[{n}]' for n in ns)}" for claim, ns in sides.items()
        ]
        parts.append(f"**Sources disagree on {_inline(conflict.topic)}:**\n\n" + "\n".join(lines))
    if answer.citations:
        parts.append("### Sources")
        parts += [_md_citation(citation) for citation in answer.citations]
    return parts


def _md_citation(citation: Citation) -> str:
    return (
        f"**[{citation.n}] {_inline(citation.title)}** — {_inline(kind_text(citation))}  \n"
        f"{_code(citation.source)}, {citation.where}, "
        f"SHA-256 {_code(citation.sha256)}\n\n{_quote(citation.quote)}"
    )


def _md_review(turn: Turn) -> list[str]:
    parts = ["### Review", f"**Status:** {_inline(review_text(turn.review))}"]
    if len(turn.reviews) > 1:
        history = [f"- {_inline(review_text(review))}" for review in turn.reviews[:-1]]
        parts.append("Earlier reviews:\n\n" + "\n".join(history))
    lines = [f"- {_inline(feedback_text(feedback))}" for feedback in turn.feedback]
    parts.append("**Feedback:**\n\n" + "\n".join(lines) if lines else "**Feedback:** none")
    return parts


# --- Files --------------------------------------------------------------------------------


def export_name(conversation: Conversation, fmt: str) -> str:
    """The file name: from the conversation's id (letters and digits only), never user text."""
    ident = re.sub(r"[^0-9A-Za-z]", "", conversation.id)[:8] or "unknown"
    return f"procurebot-conversation-{ident}.{fmt}"


def export(conversation: Conversation, fmt: str, folder: Path) -> Path:
    """Write the conversation in `fmt` (one of FORMATS) into `folder`; returns the file."""
    if fmt not in FORMATS:
        raise ExportError(f"Unknown export format {fmt!r}: use one of {', '.join(FORMATS)}.")
    path = folder / export_name(conversation, fmt)
    partial = path.with_name(path.name + ".part")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if fmt == "md":
            partial.write_text(to_markdown(conversation), encoding="utf-8")
        elif fmt == "json":
            text = json.dumps(to_json(conversation), ensure_ascii=False, indent=2)
            partial.write_text(text + "\n", encoding="utf-8")
        else:
            write_docx(conversation, partial)
        partial.replace(path)
    except OSError as exc:
        with suppress(OSError):
            partial.unlink(missing_ok=True)
        raise ExportError(
            f"The export could not be written to {folder} ({exc}): check that the folder is "
            "writable and has free space."
        ) from exc
    return path
