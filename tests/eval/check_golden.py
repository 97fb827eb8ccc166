#!/usr/bin/env python3
"""Validate the golden evaluation set (tests/eval/golden.toml) against its schema and the corpus.

Run from anywhere: ``python tests/eval/check_golden.py [path/to/golden.toml]``.
Standard library only (tomllib, Python 3.11+). Prints a table of case counts per category and
language, then every problem found; exits 1 when there is any problem, 0 otherwise.

Checks:
- schema: exactly the expected keys with the expected types; allowed category, language, conflict;
  kebab-case, unique ids; non-empty question; history only (and always) on follow-ups;
- counts: at least 72 cases; minimum cases per category; languages category with at least
  three questions each in fr, de, it, es; conflict cases covering every conflict topic;
- grounding: for every fact of a non-cost case, at least one "|"-alternative occurs
  (case-insensitive) in at least one of the case's listed source files in corpus/;
  cost facts contain a number; sources exist in corpus/;
- answerable = false cases have no facts and no sources; answerable cases have both;
  out-of-corpus cases are not answerable; no forbidden string is part of a required fact.
"""

from __future__ import annotations

import re
import sys
import tomllib
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent.parent
CORPUS_DIR = PROJECT_ROOT / "corpus"
DEFAULT_GOLDEN = HERE / "golden.toml"

CATEGORIES = (
    "facts",
    "prices",
    "deprecations",
    "deployment",
    "sovereignty",
    "conflicts",
    "costs",
    "follow-ups",
    "languages",
    "out-of-corpus",
    "injection",
)
LANGUAGES = ("en", "fr", "de", "it", "es")
CONFLICTS = (
    "weights-open-or-closed",
    "multimodal-or-text-only",
    "context-window",
    "release-date-3.1",
)

MIN_TOTAL = 72
MIN_PER_CATEGORY = {
    "facts": 8,
    "prices": 6,
    "deprecations": 6,
    "deployment": 6,
    "sovereignty": 4,
    "conflicts": 6,
    "costs": 4,
    "follow-ups": 6,
    "languages": 12,
    "out-of-corpus": 8,
    "injection": 5,
}
# questions in category "languages", per language
MIN_LANGUAGES_CATEGORY = {"fr": 3, "de": 3, "it": 3, "es": 3}
# conflict cases (category "conflicts") per conflict topic
MIN_PER_CONFLICT = {
    "weights-open-or-closed": 2,
    "multimodal-or-text-only": 2,
    "context-window": 1,
    "release-date-3.1": 1,
}
MIN_NOT_ANSWERABLE_COSTS = 1
MAX_FACTS = 3

FIELDS = {
    "id": str,
    "category": str,
    "language": str,
    "question": str,
    "history": list,
    "answerable": bool,
    "facts": list,
    "forbidden": list,
    "sources": list,
    "conflict": str,
}
KEBAB_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def load_corpus() -> dict[str, str]:
    """File name -> lower-cased text of every .txt document in corpus/."""
    return {p.name: p.read_text(encoding="utf-8").lower() for p in sorted(CORPUS_DIR.glob("*.txt"))}


def _str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def check_case(index: int, case: object, corpus: dict[str, str]) -> list[str]:
    where = f"case #{index + 1}"
    if not isinstance(case, dict):
        return [f"{where}: not a table"]
    if isinstance(case.get("id"), str):
        where = f"case #{index + 1} ({case['id']})"
    problems: list[str] = []

    missing = [k for k in FIELDS if k not in case]
    extra = [k for k in case if k not in FIELDS]
    if missing:
        problems.append(f"{where}: missing keys {missing}")
    if extra:
        problems.append(f"{where}: unknown keys {extra}")
    for key, kind in FIELDS.items():
        if key in case and not isinstance(case[key], kind):
            problems.append(
                f"{where}: {key} must be {kind.__name__}, got {type(case[key]).__name__}"
            )
    for key in ("history", "facts", "forbidden", "sources"):
        if key in case and isinstance(case[key], list) and not _str_list(case[key]):
            problems.append(f"{where}: {key} must be a list of strings")
    if problems:
        return problems

    cid, category, language = case["id"], case["category"], case["language"]
    facts, forbidden, sources = case["facts"], case["forbidden"], case["sources"]
    history, answerable, conflict = case["history"], case["answerable"], case["conflict"]

    if not KEBAB_RE.match(cid):
        problems.append(f"{where}: id is not kebab-case")
    if category not in CATEGORIES:
        problems.append(f"{where}: unknown category {category!r}")
    if language not in LANGUAGES:
        problems.append(f"{where}: unknown language {language!r}")
    if conflict and conflict not in CONFLICTS:
        problems.append(f"{where}: unknown conflict {conflict!r}")
    if not case["question"].strip():
        problems.append(f"{where}: empty question")
    if any(not h.strip() for h in history):
        problems.append(f"{where}: empty string in history")

    if category == "follow-ups" and not history:
        problems.append(f"{where}: follow-up without history")
    if category != "follow-ups" and history:
        problems.append(f"{where}: history is only for follow-ups")
    if category == "languages" and language == "en":
        problems.append(f"{where}: languages case written in English")
    if category == "conflicts":
        if not conflict:
            problems.append(f"{where}: conflicts case without a conflict topic")
        if len(facts) < 2:
            problems.append(f"{where}: a conflict case needs both sides as facts")
    if conflict and not answerable:
        problems.append(f"{where}: a conflict case must be answerable")

    for name, values in (
        ("facts", facts),
        ("forbidden", forbidden),
        ("sources", sources),
        ("history", history),
    ):
        dupes = sorted(v for v, n in Counter(values).items() if n > 1)
        if dupes:
            problems.append(f"{where}: duplicate {name} {dupes}")
    for value in (*facts, *forbidden):
        if value != value.strip() or not value.strip():
            problems.append(f"{where}: blank or padded fact/forbidden string {value!r}")
        elif any(not alt.strip() or alt != alt.strip() for alt in value.split("|")):
            problems.append(f"{where}: empty or padded alternative in {value!r}")

    if not answerable:
        if facts:
            problems.append(f"{where}: answerable = false but facts are given")
        if sources:
            problems.append(f"{where}: answerable = false but sources are given")
    else:
        if not facts:
            problems.append(f"{where}: answerable case without facts")
        if not sources:
            problems.append(f"{where}: answerable case without sources")
        if len(facts) > MAX_FACTS:
            problems.append(f"{where}: {len(facts)} facts (keep one to {MAX_FACTS})")
    if category == "out-of-corpus" and answerable:
        problems.append(f"{where}: out-of-corpus case marked answerable")

    for source in sources:
        if "/" in source or "\\" in source:
            problems.append(f"{where}: source {source!r} must be a bare file name")
        elif source not in corpus:
            problems.append(f"{where}: source {source!r} not found in {CORPUS_DIR}")

    for fact in facts:
        alternatives = [a.strip().lower() for a in fact.split("|") if a.strip()]
        if category == "costs":
            if not any(re.search(r"\d", a) for a in alternatives):
                problems.append(f"{where}: cost fact {fact!r} holds no number")
            continue
        texts = [corpus[s] for s in sources if s in corpus]
        if not any(alt in text for alt in alternatives for text in texts):
            problems.append(f"{where}: fact {fact!r} occurs in none of its sources {sources}")

    for bad in forbidden:
        for fact in facts:
            for alt in fact.split("|"):
                if bad.strip().lower() in alt.strip().lower():
                    problems.append(f"{where}: forbidden {bad!r} is part of required fact {alt!r}")
    return problems


def summary_table(cases: list[dict]) -> str:
    counts = Counter((c.get("category"), c.get("language")) for c in cases)
    categories = list(CATEGORIES) + sorted({c for c, _ in counts if c not in CATEGORIES}, key=str)
    head = (
        f"{'category':<15}"
        + "".join(f"{lang:>5}" for lang in LANGUAGES)
        + f"{'total':>7}{'min':>5}"
    )
    lines = [head, "-" * len(head)]
    for category in categories:
        row = [counts[(category, lang)] for lang in LANGUAGES]
        total = sum(n for (c, _), n in counts.items() if c == category)
        minimum = MIN_PER_CATEGORY.get(category, "")
        lines.append(
            f"{category!s:<15}" + "".join(f"{n:>5}" for n in row) + f"{total:>7}{minimum!s:>5}"
        )
    lines.append("-" * len(head))
    per_lang = [sum(n for (_, lg), n in counts.items() if lg == lang) for lang in LANGUAGES]
    lines.append(
        f"{'total':<15}" + "".join(f"{n:>5}" for n in per_lang) + f"{len(cases):>7}{MIN_TOTAL:>5}"
    )
    answerable = sum(1 for c in cases if c.get("answerable") is True)
    lines.append(f"answerable: {answerable}, not answerable: {len(cases) - answerable}")
    conflicts = Counter(c.get("conflict") for c in cases if c.get("conflict"))
    lines.append("conflicts: " + ", ".join(f"{t}={conflicts[t]}" for t in CONFLICTS))
    return "\n".join(lines)


def check(path: Path) -> tuple[list[dict], list[str]]:
    problems: list[str] = []
    if not CORPUS_DIR.is_dir():
        return [], [f"corpus folder not found: {CORPUS_DIR}"]
    corpus = load_corpus()
    if not corpus:
        problems.append(f"no .txt documents in {CORPUS_DIR}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        return [], [f"cannot load {path}: {exc}"]

    extra_top = [k for k in data if k != "case"]
    if extra_top:
        problems.append(f"unknown top-level keys {extra_top} (only [[case]] tables are allowed)")
    cases = data.get("case", [])
    if not isinstance(cases, list):
        return [], ["'case' must be an array of tables ([[case]])"]

    for index, case in enumerate(cases):
        problems.extend(check_case(index, case, corpus))
    cases = [c for c in cases if isinstance(c, dict)]

    ids = Counter(c.get("id") for c in cases)
    for cid, n in sorted(ids.items(), key=lambda item: str(item[0])):
        if n > 1:
            problems.append(f"id {cid!r} used {n} times")

    if len(cases) < MIN_TOTAL:
        problems.append(f"{len(cases)} cases, at least {MIN_TOTAL} required")
    per_category = Counter(c.get("category") for c in cases)
    for category, minimum in MIN_PER_CATEGORY.items():
        if per_category[category] < minimum:
            problems.append(
                f"category {category}: {per_category[category]} cases, at least {minimum} required"
            )
    per_language = Counter(c.get("language") for c in cases if c.get("category") == "languages")
    for language, minimum in MIN_LANGUAGES_CATEGORY.items():
        if per_language[language] < minimum:
            problems.append(
                f"languages category: {per_language[language]} cases in {language}, "
                f"at least {minimum} required"
            )
    per_conflict = Counter(c.get("conflict") for c in cases if c.get("category") == "conflicts")
    for topic, minimum in MIN_PER_CONFLICT.items():
        if per_conflict[topic] < minimum:
            problems.append(
                f"conflict {topic}: {per_conflict[topic]} conflicts cases, "
                f"at least {minimum} required"
            )
    unanswerable_costs = sum(
        1 for c in cases if c.get("category") == "costs" and c.get("answerable") is False
    )
    if unanswerable_costs < MIN_NOT_ANSWERABLE_COSTS:
        problems.append(
            "costs: include at least one case whose price is not in the corpus (answerable = false)"
        )
    return cases, problems


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT_GOLDEN
    cases, problems = check(path)
    print(f"golden set: {path}")
    print(f"corpus:     {CORPUS_DIR}")
    print()
    print(summary_table(cases))
    print()
    if problems:
        print(f"{len(problems)} problem(s):")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print("OK: no problems found")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
