"""The reliability report: what the bad-input, fault and load tests tried, and what was lost.

A test of the report takes the `reliability` fixture (tests/conftest.py), snapshots what a
failure could destroy before and after it acts (`snapshot`), and records one row per input or
fault: the suite ("bad input", "fault", "load"), the case, what the person was told or what
happened, and how many conversations, documents and index entries were lost (`lost`). Whether
the test passed is added when it ends. With PROCUREBOT_RELIABILITY_LOG set, the rows are
appended to that file as JSON lines; `python -m tests.reliability LOG` prints them as the
Markdown table that goes into the README (`make reliability`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bot.settings import Settings

SUITES = ("bad input", "fault", "load")
# Read once at import: the tests' own fixture clears PROCUREBOT_* variables while they run.
LOG = os.environ.get("PROCUREBOT_RELIABILITY_LOG", "")


@dataclass(frozen=True)
class Snapshot:
    """What must survive any bad input or fault, each item with a fingerprint of its content."""

    conversations: dict[str, str] = field(default_factory=dict)  # turn id → its saved row
    documents: dict[str, str] = field(default_factory=dict)  # source → SHA-256 of the file
    index: dict[str, str] = field(default_factory=dict)  # chunk or sentence id → its source

    def lost(self, after: Snapshot) -> Lost:
        """What this snapshot held that `after` no longer holds unchanged."""
        return Lost(
            conversations=_missing(self.conversations, after.conversations),
            documents=_missing(self.documents, after.documents),
            index=_missing(self.index, after.index),
        )


@dataclass(frozen=True)
class Lost:
    conversations: int = 0  # saved turns gone or changed
    documents: int = 0
    index: int = 0  # chunk and sentence entries gone

    @property
    def total(self) -> int:
        return self.conversations + self.documents + self.index

    def __str__(self) -> str:
        if not self.total:
            return "0"
        parts = [("turns", self.conversations), ("documents", self.documents)]
        return ", ".join(f"{n} {what}" for what, n in [*parts, ("index entries", self.index)] if n)


def _missing(before: dict[str, str], after: dict[str, str]) -> int:
    return sum(1 for key, value in before.items() if after.get(key) != value)


def snapshot(settings: Settings) -> Snapshot:
    """The saved turns, the document files and the index entries under `settings`."""
    return Snapshot(
        conversations=_turns(settings.transcripts_path),
        documents=_files(settings),
        index=_index(settings.chroma_dir),
    )


def _turns(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        rows = db.execute(
            "SELECT id, conversation_id, question, status, answer_json FROM turns"
        ).fetchall()
    finally:
        db.close()
    # A pending turn may be answered later; what was saved must stay as it was.
    return {row[0]: _digest(row[1:3]) if row[3] == "pending" else _digest(row[1:]) for row in rows}


def _files(settings: Settings) -> dict[str, str]:
    files: dict[str, str] = {}
    for folder in (settings.corpus_dir, settings.uploads_dir):
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    key = f"{folder.name}/{path.relative_to(folder).as_posix()}"
                    files[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def _index(chroma_dir: Path) -> dict[str, str]:
    if not chroma_dir.exists():
        return {}
    from index.chroma import COLLECTION, SENTENCES, client
    from index.location import ChromaFolder

    chroma = client(ChromaFolder(chroma_dir))
    entries: dict[str, str] = {}
    for name in (COLLECTION, SENTENCES):
        if name in {c.name for c in chroma.list_collections()}:
            got = chroma.get_collection(name).get(include=["metadatas"])
            for entry_id, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
                entries[f"{name}/{entry_id}"] = str(meta.get("source"))
    return entries


def _digest(values: tuple[object, ...]) -> str:
    return hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Row:
    suite: str  # one of SUITES
    case: str  # the input or fault, in a few words
    outcome: str  # what the person was told, or what happened
    lost: str = "0"  # what was lost, "0" when nothing
    passed: bool | None = None  # whether the test that recorded the row passed
    test: str = ""


class Recorder:
    """Rows of one test; written out when it ends, with whether it passed."""

    def __init__(self, test: str) -> None:
        self.test = test
        self.rows: list[Row] = []

    def record(self, suite: str, case: str, outcome: str, lost: Lost | str = "0") -> None:
        assert suite in SUITES, suite
        self.rows.append(Row(suite, case, _one_line(outcome), str(lost), test=self.test))

    def flush(self, passed: bool) -> None:
        if not LOG or not self.rows:
            return
        with Path(LOG).open("a", encoding="utf-8") as out:
            for row in self.rows:
                out.write(json.dumps(asdict(row) | {"passed": passed}, ensure_ascii=False) + "\n")


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_rows(path: Path) -> list[Row]:
    if not path.exists():
        return []
    return [Row(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()]


def table(rows: list[Row]) -> str:
    """The report: one table per suite, then the totals."""
    out: list[str] = []
    order = {suite: i for i, suite in enumerate(SUITES)}
    for suite in sorted({r.suite for r in rows}, key=lambda s: order.get(s, 99)):
        out += [f"**{suite}**", "", "| case | outcome | lost | test |", "|---|---|---|---|"]
        for r in (r for r in rows if r.suite == suite):
            verdict = "passed" if r.passed else "**FAILED**"
            case, outcome = (text.replace("|", "\\|") for text in (r.case, r.outcome))
            out.append(f"| {case} | {outcome} | {r.lost} | {verdict} |")
        out.append("")
    counts = Counter(r.suite for r in rows)
    failed = sum(1 for r in rows if not r.passed)
    lost = sum(1 for r in rows if r.lost != "0")
    summary = ", ".join(f"{counts[s]} {s}" for s in SUITES if counts[s])
    out.append(f"{summary}; {failed} failed; {lost} with anything lost.")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    rows = read_rows(Path(argv[0]))
    print(table(rows))
    return 0 if rows and all(r.passed and r.lost == "0" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
