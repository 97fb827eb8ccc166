"""`procurebot eval --corpus DIR --questions FILE`: any corpus, the shared question-set format,
and the gate on another vendor's real documentation (../shared/corpora/azure-openai)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.answering.answers import Answer, Citation
from bot.answering.engine import Engine
from bot.evaluation import question_sets
from bot.settings import PROJECT_ROOT, Settings
from tests.conftest import run_cli

AZURE = PROJECT_ROOT.parent / "shared" / "corpora" / "azure-openai"
REQUIRED = os.environ.get("PROCUREBOT_TEST_REQUIRE_CORPORA") == "1"


def _answer(text: str, grounded: bool = True, quotes: tuple[str, ...] = ()) -> Answer:
    citations = tuple(
        Citation(n, "docs/a.md", "A", "other", None, quote, 0, len(quote), "0" * 64, "c")
        for n, quote in enumerate(quotes, start=1)
    )
    return Answer("q", text, "extractive", "m", grounded, citations)


def _item(kind: str, facts: list[list[str]], cite: list[str], **extra: object) -> dict[str, object]:
    return {"id": "x1", "kind": kind, "q": "Q?", "facts": facts, "cite": cite, **extra}


def _score(tmp_path: Path, raw: dict[str, object], answer: Answer) -> question_sets.ItemResult:
    (tmp_path / "docs").mkdir(exist_ok=True)
    (tmp_path / "docs" / "a.md").write_text("Retired on 2026-10-01. Use gpt-5.1.", encoding="utf-8")
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps(raw) + "\n", encoding="utf-8")
    (item,) = question_sets.load_items(path)
    return question_sets.run_item(item, lambda q, h: answer, tmp_path)


def test_every_fact_group_must_match_the_answer_or_its_quotes(tmp_path: Path) -> None:
    raw = _item("fact", [["2026-10-01", "October 1, 2026"], ["gpt-5\\.1"]], ["a.md"])
    quoted = _answer("It retires. [1]", quotes=("Retired on 2026-10-01. Use gpt-5.1.",))
    result = _score(tmp_path, raw, quoted)
    assert result.passed and result.facts_ok and result.precise == 1
    half = _score(tmp_path, raw, _answer("It retires on October 1, 2026."))
    assert not half.passed and half.missing_facts == (1,) and not half.cited_expected


def test_a_quote_not_at_its_span_is_not_verbatim(tmp_path: Path) -> None:
    raw = _item("fact", [["gpt-5\\.1"]], ["a.md"])
    result = _score(tmp_path, raw, _answer("x [1]", quotes=("Use gpt-5.1 now.",)))
    assert result.citations == 1 and result.verbatim == 0 and not result.passed


def test_a_refusal_passes_only_ungrounded_and_quoting_nothing(tmp_path: Path) -> None:
    raw = _item("refusal", [], [])
    assert _score(tmp_path, raw, _answer("The documents do not say.", grounded=False)).passed
    assert not _score(tmp_path, raw, _answer("Yes [1]", quotes=("Retired on 2026-10-01.",))).passed


def test_a_near_miss_must_not_invent_the_value(tmp_path: Path) -> None:
    raw = _item("nearmiss", [], ["a.md"], forbid=["(?i)99[.,]9\\s?%"])
    assert _score(tmp_path, raw, _answer("Not stated.", grounded=False)).passed
    assert not _score(tmp_path, raw, _answer("It is 99.9 %.", grounded=False)).passed


def test_a_follow_up_is_asked_after_its_first_turn(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    raw = _item("followup", [], [], q="When does gpt-4o retire? ||| And what replaces it?")
    path.write_text(json.dumps(raw) + "\n", encoding="utf-8")
    (item,) = question_sets.load_items(path)
    assert (item.history, item.question) == (("When does gpt-4o retire?",), "And what replaces it?")


def test_a_bad_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text('{"id": "a"}\n', encoding="utf-8")
    with pytest.raises(question_sets.QuestionSetError, match="line 1"):
        question_sets.load_items(path)


@pytest.mark.slow  # subprocesses or many index runs: not in make test-fast
def test_eval_runs_a_question_set_over_any_corpus_folder(tmp_path: Path) -> None:
    corpus = tmp_path / "vendor"
    corpus.mkdir()
    (corpus / "terms.md").write_text(
        "# Service terms\n\nThe hosted service keeps customer prompts for 14 days in the EU.\n",
        encoding="utf-8",
    )
    questions = tmp_path / "qa.jsonl"
    questions.write_text(
        json.dumps(_item("fact", [["14 days"]], ["terms.md"], q="How long are prompts kept?"))
        + "\n",
        encoding="utf-8",
    )
    result = run_cli(
        "eval", "--corpus", str(corpus), "--questions", str(questions), data_dir=tmp_path / "d"
    )
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert "| facts | 1.000 |" in out and "| citation precision | 1.000 |" in out
    assert (tmp_path / "d" / "eval" / "report.json").is_file()
    bad = run_cli("eval", "--corpus", str(corpus), data_dir=tmp_path / "d")
    assert bad.returncode == 2 and b"--questions" in bad.stderr


# The gate on another vendor's documentation, per embedding model. Measured 2026-11-30
# (README, "Evaluation"): e5 facts 0.48, citation precision 0.69, near-miss 1.00; MiniLM
# facts 0.44, citation precision 0.66, near-miss 1.00. The gates sit below: they stop a
# regression, they are not the targets (facts 0.80), which the offline answerer does
# not reach yet.
AZURE_GATES = {
    "multilingual-e5-small-q4": {
        "facts": 0.42,
        "citation_precision": 0.62,
        "nearmiss_accuracy": 0.66,
        "verbatim_quotes": 1.0,
    },
    "all-MiniLM-L6-v2-onnx-int8": {
        "facts": 0.38,
        "citation_precision": 0.62,
        "nearmiss_accuracy": 0.66,
        "verbatim_quotes": 1.0,
    },
}


@pytest.mark.slow
@pytest.mark.parametrize("model", sorted(AZURE_GATES))
def test_another_vendors_documentation_holds_its_gates(
    tmp_path_factory: pytest.TempPathFactory, model: str
) -> None:
    if not (AZURE / "docs").is_dir():
        if REQUIRED:
            pytest.fail(f"{AZURE} is missing (PROCUREBOT_TEST_REQUIRE_CORPORA=1)")
        pytest.skip(f"{AZURE} is not beside the checkout")
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("azure"),
        corpus_dir=AZURE / "docs",
        embedding_model=model,
        backend="extractive",
    )
    engine = Engine.open(settings)
    items = question_sets.load_items(AZURE / "dev_qa.jsonl")
    results = [question_sets.run_item(i, engine.ask, AZURE) for i in items]
    metrics = question_sets.metrics(results)
    report = question_sets.to_markdown(model, results)
    for name, minimum in AZURE_GATES[model].items():
        assert metrics[name] >= minimum, report
