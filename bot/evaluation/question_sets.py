"""Evaluation over any corpus: a JSONL question set scored as `../shared/corpora/README.md` says.

One JSON object per line: `id`, `kind`, `q`, `facts`, `cite`, optional `forbid`, `note`.

- kinds: fact, multi, calc, conflict, followup, multilingual (answerable), refusal, nearmiss.
- facts: a list of groups, each a list of alternative Python regular expressions; an answer
  has the fact when every group has an alternative matching the answer text joined with its
  quotes (case-sensitive unless the pattern says `(?i)`; multilingual items ignore case).
- cite: at least one citation must come from one of these file names.
- forbid: no pattern may match the answer text.
- conflict: the answer must also report a disagreement (`conflicts` non-empty).
- followup: `q` is `FIRST ||| FOLLOW-UP`; only the follow-up's answer is scored.
- refusal: the answer must be `grounded: false` and quote nothing.
- nearmiss: the value asked for is not stated: the answer must say so (not grounded, or a
  notice naming what is missing) and must not match `forbid`.

Metrics (shares in 0..1, latency in milliseconds):
- facts: answerable items whose every fact group matched.
- cited: answerable items with at least one citation from an expected file.
- citation precision: of the citations of answerable items, those verbatim at their span and
  from an expected file (ALCE's citation precision, judged by source file).
- verbatim quotes: of all citations, those equal to the file's text at their span.
- refusal accuracy, near-miss accuracy: as defined above.
- conflict detection: conflict items whose answer reports a disagreement.
- passed: items meeting everything their kind asks; `by_kind` gives it per kind.
- over length: answers longer than 1,200 characters.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bot.answering.answers import Answer
from bot.evaluation.golden import percentile, share, verbatim

ANSWERABLE_KINDS = ("fact", "multi", "calc", "conflict", "followup", "multilingual")
MAX_ANSWER_CHARS = 1200
FOLLOWUP_SEPARATOR = " ||| "

# Answers `ask(question, history)`; history holds the conversation's earlier questions.
Ask = Callable[[str, tuple[str, ...]], Answer]


class QuestionSetError(ValueError):
    """A question set line that is not in the documented format (its line number said)."""


@dataclass(frozen=True)
class Item:
    id: str
    kind: str
    question: str
    history: tuple[str, ...]
    facts: tuple[tuple[str, ...], ...]
    cite: tuple[str, ...]
    forbid: tuple[str, ...]


@dataclass(frozen=True)
class ItemResult:
    id: str
    kind: str
    grounded: bool
    facts_ok: bool
    missing_facts: tuple[int, ...]  # indexes of the fact groups no alternative matched
    cited_expected: bool
    citations: int
    verbatim: int
    precise: int
    conflict_found: bool
    forbidden: tuple[str, ...]
    says_missing: bool
    length: int
    latency_ms: float
    passed: bool
    rewritten_query: str
    answer: str


def slug(corpus: Path) -> str:
    """A folder name for a corpus's own index: its name and a hash of its path."""
    digest = hashlib.sha256(str(corpus).encode()).hexdigest()[:10]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{corpus.parent.name}-{corpus.name}")
    return f"{name}-{digest}"


def load_items(path: Path) -> list[Item]:
    """The items of a JSONL question set; QuestionSetError names the first bad line."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            turns = raw["q"].split(FOLLOWUP_SEPARATOR) if raw["kind"] == "followup" else [raw["q"]]
            items.append(
                Item(
                    id=str(raw["id"]),
                    kind=str(raw["kind"]),
                    question=turns[-1],
                    history=tuple(turns[:-1]),
                    facts=tuple(tuple(group) for group in raw.get("facts", [])),
                    cite=tuple(raw.get("cite", [])),
                    forbid=tuple(raw.get("forbid", [])),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise QuestionSetError(f"{path.name} line {number}: {exc!r}") from exc
    return items


def run_item(item: Item, ask: Ask, root: Path) -> ItemResult:
    """Ask one item (its history first, in the same conversation) and score the answer."""
    started = time.perf_counter()
    answer = ask(item.question, item.history)
    latency = (time.perf_counter() - started) * 1000
    haystack = "\n".join([answer.answer, *(c.quote for c in answer.citations)])
    flags = re.IGNORECASE if item.kind == "multilingual" else 0
    missing = tuple(
        index
        for index, group in enumerate(item.facts)
        if not any(re.search(pattern, haystack, flags) for pattern in group)
    )
    exact = [c for c in answer.citations if verbatim(root, c.source, c.start, c.end, c.quote)]
    expected = set(item.cite)
    precise = [c for c in exact if Path(c.source).name in expected]
    forbidden = tuple(p for p in item.forbid if re.search(p, answer.answer))
    says_missing = not answer.grounded or any(
        notice.startswith("No source gives") for notice in answer.notices
    )
    result = ItemResult(
        id=item.id,
        kind=item.kind,
        grounded=answer.grounded,
        facts_ok=not missing,
        missing_facts=missing,
        cited_expected=bool(precise),
        citations=len(answer.citations),
        verbatim=len(exact),
        precise=len(precise),
        conflict_found=bool(answer.conflicts),
        forbidden=forbidden,
        says_missing=says_missing,
        length=len(answer.answer),
        latency_ms=latency,
        passed=False,
        rewritten_query=answer.rewritten_query,
        answer=answer.answer,
    )
    return _with_verdict(result)


def _with_verdict(r: ItemResult) -> ItemResult:
    if r.kind == "refusal":
        passed = not r.grounded and r.citations == 0
    elif r.kind == "nearmiss":
        passed = r.says_missing and not r.forbidden
    else:
        passed = r.grounded and r.facts_ok and r.cited_expected and not r.forbidden
        if r.kind == "conflict":
            passed = passed and r.conflict_found
    return ItemResult(**{**asdict(r), "passed": passed})


def metrics(results: list[ItemResult]) -> dict[str, Any]:
    """The set's metrics (see the module's docstring) and the pass share per kind."""
    answerable = [r for r in results if r.kind in ANSWERABLE_KINDS]
    citations = sum(r.citations for r in answerable)
    all_citations = sum(r.citations for r in results)
    latencies = sorted(r.latency_ms for r in results)
    kinds = sorted({r.kind for r in results})
    return {
        "items": len(results),
        "facts": share([r.facts_ok for r in answerable]),
        "facts_found": sum(r.facts_ok for r in answerable),
        "facts_total": len(answerable),
        "cited": share([r.cited_expected for r in answerable]),
        "citation_precision": sum(r.precise for r in answerable) / citations if citations else 0.0,
        "verbatim_quotes": sum(r.verbatim for r in results) / all_citations
        if all_citations
        else 1.0,
        "refusal_accuracy": share([r.passed for r in results if r.kind == "refusal"]),
        "nearmiss_accuracy": share([r.passed for r in results if r.kind == "nearmiss"]),
        "conflict_detection": share([r.conflict_found for r in results if r.kind == "conflict"]),
        "passed": share([r.passed for r in results]),
        "over_length": sum(r.length > MAX_ANSWER_CHARS for r in results),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
        "by_kind": {
            kind: {
                "items": sum(r.kind == kind for r in results),
                "passed": share([r.passed for r in results if r.kind == kind]),
                "facts": share([r.facts_ok for r in results if r.kind == kind]),
            }
            for kind in kinds
        },
    }


def to_markdown(title: str, results: list[ItemResult]) -> str:
    """The metrics table, the per-kind table and one line per item that did not pass."""
    m = metrics(results)
    lines = [title, "", "| metric | value |", "|---|---|"]
    for name in (
        "facts",
        "cited",
        "citation_precision",
        "verbatim_quotes",
        "refusal_accuracy",
        "nearmiss_accuracy",
        "conflict_detection",
        "passed",
    ):
        lines.append(f"| {name.replace('_', ' ')} | {m[name]:.3f} |")
    lines.append(f"| facts found | {m['facts_found']}/{m['facts_total']} |")
    lines.append(f"| answers over {MAX_ANSWER_CHARS} characters | {m['over_length']} |")
    lines.append(
        f"| latency p50 / p95 | {m['latency_p50_ms']:.0f} / {m['latency_p95_ms']:.0f} ms |"
    )
    lines += ["", "| kind | items | passed | facts |", "|---|---|---|---|"]
    for kind, row in m["by_kind"].items():
        lines.append(f"| {kind} | {row['items']} | {row['passed']:.2f} | {row['facts']:.2f} |")
    failed = [r for r in results if not r.passed]
    if failed:
        lines += ["", "| item | kind | problem |", "|---|---|---|"]
        lines += [f"| {r.id} | {r.kind} | {_problem(r)} |" for r in failed]
    return "\n".join(lines)


def _problem(r: ItemResult) -> str:
    if r.kind == "refusal":
        return f"answered (grounded={r.grounded}, {r.citations} citations)"
    if r.kind == "nearmiss":
        return "answered as if stated" + (f"; forbidden {list(r.forbidden)}" if r.forbidden else "")
    problems = []
    if not r.grounded:
        problems.append("refused")
    if r.missing_facts:
        problems.append(f"fact groups {list(r.missing_facts)} missing")
    if not r.cited_expected:
        problems.append("no citation from an expected file")
    if r.forbidden:
        problems.append(f"forbidden {list(r.forbidden)}")
    if r.kind == "conflict" and not r.conflict_found:
        problems.append("no conflict reported")
    return "; ".join(problems)


def write(results: list[ItemResult], title: str, folder: Path) -> tuple[Path, Path]:
    """report.md and report.json in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    markdown = folder / "report.md"
    markdown.write_text(to_markdown(title, results) + "\n", encoding="utf-8")
    data = {"metrics": metrics(results), "results": [asdict(r) for r in results]}
    path = folder / "report.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return markdown, path
