"""The evaluation gate: run the golden set through the engine and measure what users rely on.

Metrics (answerable = the golden case says the corpus answers it):
- hit@5, MRR: an expected source among the first 5 retrieved passages; 1/rank of the first.
- fact recall: share of expected facts found in the answer (its text and quotes).
- verbatim quotes: share of citations whose quote is exactly the file's text at its span.
- citation precision: share of citations that are verbatim and from an expected source.
- refusal accuracy: share of unanswerable questions answered "the documents don't say".
- answer rate: share of answerable questions answered (not refused).
- conflict detection: share of conflict cases whose answer reports a disagreement (the
  case's `conflict` names it for people; topics are found generically, so any counts).
- conflict false alarms: share of the other cases whose answer reports one.
- forbidden: answers that contain a string the case forbids (an injected or wrong claim).
- latency p50/p95 per question.
"""

from __future__ import annotations

import json
import statistics
import time
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.answering.answers import Answer

# The gate: the offline engine must meet these on the golden set. Set from measurement.
GATES = {
    "hit_at_5": 0.95,
    "refusal_accuracy": 1.0,
    "verbatim_quotes": 1.0,
}


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    language: str
    question: str
    history: tuple[str, ...]
    answerable: bool
    facts: tuple[str, ...]
    forbidden: tuple[str, ...]
    sources: tuple[str, ...]
    conflict: str


@dataclass(frozen=True)
class CaseResult:
    id: str
    category: str
    language: str
    grounded: bool
    answerable: bool
    expects_sources: bool
    first_relevant_rank: int | None
    facts_found: int
    facts_total: int
    citations: int
    verbatim: int
    precise: int
    conflict_expected: str
    conflict_found: bool
    conflict_reported: bool
    forbidden_found: tuple[str, ...]
    latency_ms: float
    rewritten_query: str
    answer: str


@dataclass(frozen=True)
class Report:
    backend: str
    model: str
    cases: int
    metrics: dict[str, float]
    gates: dict[str, float]
    failures: tuple[str, ...]
    results: tuple[CaseResult, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return not self.failures


def load_cases(path: Path) -> list[Case]:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return [
        Case(
            id=item["id"],
            category=item["category"],
            language=item["language"],
            question=item["question"],
            history=tuple(item.get("history", [])),
            answerable=bool(item["answerable"]),
            facts=tuple(item.get("facts", [])),
            forbidden=tuple(item.get("forbidden", [])),
            sources=tuple(item.get("sources", [])),
            conflict=item.get("conflict", ""),
        )
        for item in raw["case"]
    ]


Ask = Callable[[str, tuple[str, ...]], Answer]


def evaluate(cases: list[Case], ask: Ask, root: Path, backend: str, model: str) -> Report:
    """Run every case through `ask(question, history)`; `root` resolves citation sources."""
    results = [_run(case, ask, root) for case in cases]
    metrics = _metrics(results)
    failures = tuple(
        f"{name} {metrics[name]:.3f} < {minimum:.3f}"
        for name, minimum in GATES.items()
        if metrics[name] < minimum
    )
    return Report(
        backend=backend,
        model=model,
        cases=len(results),
        metrics=metrics,
        gates=dict(GATES),
        failures=failures,
        results=tuple(results),
    )


def _run(case: Case, ask: Ask, root: Path) -> CaseResult:
    started = time.perf_counter()
    answer = ask(case.question, case.history)
    latency = (time.perf_counter() - started) * 1000
    expected = {name for name in case.sources}
    ranks = [
        rank
        for rank, passage in enumerate(answer.retrieved, start=1)
        if Path(str(passage["source"])).name in expected
    ]
    haystack = " ".join([answer.answer, *(c.quote for c in answer.citations)]).lower()
    facts_found = sum(
        any(option.strip().lower() in haystack for option in fact.split("|")) for fact in case.facts
    )
    exact = [c for c in answer.citations if verbatim(root, c.source, c.start, c.end, c.quote)]
    precise = [c for c in exact if Path(c.source).name in expected]
    return CaseResult(
        id=case.id,
        category=case.category,
        language=case.language,
        grounded=answer.grounded,
        answerable=case.answerable,
        expects_sources=bool(case.sources),
        first_relevant_rank=ranks[0] if ranks else None,
        facts_found=facts_found,
        facts_total=len(case.facts),
        citations=len(answer.citations),
        verbatim=len(exact),
        precise=len(precise),
        conflict_expected=case.conflict,
        conflict_found=bool(case.conflict) and bool(answer.conflicts),
        conflict_reported=bool(answer.conflicts),
        forbidden_found=tuple(f for f in case.forbidden if f.lower() in answer.answer.lower()),
        latency_ms=latency,
        rewritten_query=answer.rewritten_query,
        answer=answer.answer,
    )


def verbatim(root: Path, source: str, start: int, end: int, quote: str) -> bool:
    """Whether the file at `root / source` holds exactly `quote` at `start:end`."""
    try:
        text = (root / source).read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return text[start:end] == quote


def _metrics(results: list[CaseResult]) -> dict[str, float]:
    answerable = [r for r in results if r.answerable]
    with_sources = [r for r in answerable if r.expects_sources]
    unanswerable = [r for r in results if not r.answerable]
    conflicts = [r for r in results if r.conflict_expected]
    citations = sum(r.citations for r in answerable)
    all_citations = sum(r.citations for r in results)
    latencies = sorted(r.latency_ms for r in results)
    return {
        "hit_at_5": share(
            [r.first_relevant_rank is not None and r.first_relevant_rank <= 5 for r in with_sources]
        ),
        "mrr": statistics.fmean(
            [1 / r.first_relevant_rank if r.first_relevant_rank else 0.0 for r in with_sources]
        )
        if with_sources
        else 0.0,
        "fact_recall": (
            sum(r.facts_found for r in answerable) / sum(r.facts_total for r in answerable)
            if sum(r.facts_total for r in answerable)
            else 1.0
        ),
        "verbatim_quotes": sum(r.verbatim for r in results) / all_citations
        if all_citations
        else 1.0,
        "citation_precision": sum(r.precise for r in answerable) / citations if citations else 0.0,
        "refusal_accuracy": share([not r.grounded for r in unanswerable]),
        "answer_rate": share([r.grounded for r in answerable]),
        "conflict_detection": share([r.conflict_found for r in conflicts]),
        "conflict_false_alarms": (
            share([r.conflict_reported for r in results if not r.conflict_expected])
            if any(not r.conflict_expected for r in results)
            else 0.0
        ),
        "forbidden_answers": float(sum(bool(r.forbidden_found) for r in results)),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
    }


def share(flags: list[bool]) -> float:
    """The share of true flags; 1.0 for none (nothing to fail)."""
    return sum(flags) / len(flags) if flags else 1.0


def percentile(values: list[float], percent: int) -> float:
    """The nearest-rank percentile of sorted `values` (0.0 for none)."""
    if not values:
        return 0.0
    index = min(len(values) - 1, max(0, round(percent / 100 * len(values) + 0.5) - 1))
    return values[index]


def to_markdown(report: Report) -> str:
    lines = [
        f"Evaluation of `{report.backend}` ({report.model}) on {report.cases} golden questions",
        "",
        "| metric | value | gate |",
        "|---|---|---|",
    ]
    for name, value in report.metrics.items():
        gate = f"≥ {report.gates[name]:.2f}" if name in report.gates else ""
        shown = (
            f"{value:.0f}"
            if name.endswith("_ms") or name == "forbidden_answers"
            else f"{value:.3f}"
        )
        lines.append(f"| {name.replace('_', ' ')} | {shown} | {gate} |")
    lines.append("")
    lines.append(
        "Gate: " + ("passed" if report.passed else "FAILED: " + "; ".join(report.failures))
    )
    misses = [r for r in report.results if _missed(r)]
    if misses:
        lines += ["", "| case | problem |", "|---|---|"]
        lines += [f"| {r.id} | {_problem(r)} |" for r in misses]
    return "\n".join(lines)


def _missed(result: CaseResult) -> bool:
    return bool(_problem(result))


def _problem(r: CaseResult) -> str:
    problems = []
    if r.answerable and not r.grounded:
        problems.append("refused an answerable question")
    if not r.answerable and r.grounded:
        problems.append("answered an unanswerable question")
    if r.facts_found < r.facts_total:
        problems.append(f"facts {r.facts_found}/{r.facts_total}")
    if r.answerable and r.facts_total and (r.first_relevant_rank or 99) > 5:
        problems.append("no expected source in the top 5")
    if r.citations > r.precise and r.answerable:
        problems.append(
            f"citations from unexpected sources {r.citations - r.precise}/{r.citations}"
        )
    if r.conflict_expected and not r.conflict_found:
        problems.append(f"conflict {r.conflict_expected} not shown")
    if r.forbidden_found:
        problems.append(f"forbidden text {list(r.forbidden_found)}")
    return "; ".join(problems)


def write(report: Report, folder: Path) -> tuple[Path, Path]:
    """Write report.md and report.json into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    markdown = folder / "report.md"
    markdown.write_text(to_markdown(report) + "\n", encoding="utf-8")
    data: dict[str, Any] = asdict(report)
    data["passed"] = report.passed
    path = folder / "report.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return markdown, path
