"""What an answer is: text with `[n]` markers and the verbatim quotes those markers cite."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Citation:
    """Quote `n` of an answer: `text of source[start:end] == quote`."""

    n: int
    source: str  # path relative to the project root, e.g. "corpus/004_910b252cb6477a8d.txt"
    title: str
    kind: str
    date: str | None
    quote: str
    start: int
    end: int
    sha256: str  # of the source file the span refers to
    chunk_id: str
    opinion: bool = False  # a community post: an opinion, not a statement of fact
    page: int | None = None  # the 1-based page of a paged source (PDF) where the quote starts

    @property
    def where(self) -> str:
        """Where the quote is, as a reviewer looks it up: "p. 3, characters 120–180"."""
        span = f"characters {self.start}–{self.end}"
        return f"p. {self.page}, {span}" if self.page else span


@dataclass(frozen=True)
class Claim:
    """One side of a disagreement: what citation `n` says."""

    n: int
    claim: str


@dataclass(frozen=True)
class Conflict:
    """Sources that disagree on one fact, each side with its citations, most reliable first."""

    topic: str
    claims: tuple[Claim, ...]


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    backend: str
    model: str
    grounded: bool
    citations: tuple[Citation, ...] = ()
    notices: tuple[str, ...] = ()
    language: str = "en"
    rewritten_query: str = ""  # the standalone question retrieval used (follow-ups rewritten)
    conflicts: tuple[Conflict, ...] = ()
    incomplete: bool = False  # the model's stream was cut before its end
    latency_ms: float = 0.0
    retrieved: tuple[dict[str, Any], ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of `procurebot ask --json`."""
        data = asdict(self)
        data["citations"] = [asdict(citation) for citation in self.citations]
        data["conflicts"] = [
            {"topic": c.topic, "claims": [asdict(claim) for claim in c.claims]}
            for c in self.conflicts
        ]
        data["notices"] = list(self.notices)
        data["retrieved"] = list(self.retrieved)
        data["latency_ms"] = round(self.latency_ms, 1)
        return data


def answer_from_json(data: dict[str, Any]) -> Answer:
    """The Answer that `Answer.to_json` wrote (transcripts keep answers this way)."""
    fields = dict(data)
    fields["citations"] = tuple(Citation(**c) for c in data.get("citations", ()))
    fields["conflicts"] = tuple(
        Conflict(c["topic"], tuple(Claim(**claim) for claim in c["claims"]))
        for c in data.get("conflicts", ())
    )
    fields["notices"] = tuple(data.get("notices", ()))
    fields["retrieved"] = tuple(data.get("retrieved", ()))
    known = set(Answer.__dataclass_fields__)
    return Answer(**{key: value for key, value in fields.items() if key in known})


def render_sources(answer: Answer) -> str:
    """The numbered sources under an answer, as Markdown (also readable as plain text)."""
    lines = []
    for citation in answer.citations:
        date = citation.date or "undated"
        kind = f"{citation.kind} (opinion)" if citation.opinion else citation.kind
        lines.append(
            f"[{citation.n}] {citation.title} — {kind}, {date} — "
            f"{citation.source}, {citation.where}\n"
            f"    “{citation.quote}”"
        )
    return "\n".join(lines)
