"""The evaluation gate: the offline engine on the golden set, as `procurebot eval` runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.answering.engine import Engine
from bot.evaluation import golden as evaluation
from bot.settings import PROJECT_ROOT

GOLDEN = PROJECT_ROOT / "tests" / "eval" / "golden.toml"


@pytest.fixture(scope="module")
def report(engine: Engine) -> evaluation.Report:
    cases = evaluation.load_cases(GOLDEN)
    return evaluation.evaluate(
        cases,
        lambda question, history: engine.ask(question, history),
        PROJECT_ROOT,
        engine.answerer.name,
        engine.answerer.model,
    )


def test_the_golden_set_is_well_formed() -> None:
    checker = PROJECT_ROOT / "tests" / "eval" / "check_golden.py"
    result = subprocess.run([sys.executable, str(checker)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_offline_engine_passes_the_gate(report: evaluation.Report) -> None:
    assert report.cases >= 60
    assert report.passed, evaluation.to_markdown(report)


@pytest.mark.parametrize(
    ("metric", "minimum"),
    [  # measured 2026-11-22: 1.00, 0.90, 0.80, 1.00, 1.00, 1.00, 0.86; gates sit a little below
        ("hit_at_5", 0.95),
        ("mrr", 0.85),
        ("fact_recall", 0.75),
        ("verbatim_quotes", 1.0),
        ("refusal_accuracy", 1.0),
        ("answer_rate", 0.95),
        # 5 of 7 since conflicts are found without the four topics the code once knew
        # (2026-11-29): "download the weights" and "read images" need words the sources
        # never write next to the model's name ("closed-API", "multimodal").
        ("conflict_detection", 0.7),
    ],
)
def test_metric_does_not_regress(report: evaluation.Report, metric: str, minimum: float) -> None:
    assert report.metrics[metric] >= minimum, evaluation.to_markdown(report)


def test_disagreements_are_not_reported_where_sources_agree(report: evaluation.Report) -> None:
    # measured 2026-11-29: 0 of 84 questions without a conflict report one
    assert report.metrics["conflict_false_alarms"] <= 0.02, evaluation.to_markdown(report)


def test_the_report_is_written_as_markdown_and_json(
    report: evaluation.Report, tmp_path: Path
) -> None:
    markdown, data = evaluation.write(report, tmp_path)
    assert "| hit at 5 |" in markdown.read_text(encoding="utf-8")
    loaded = json.loads(data.read_text(encoding="utf-8"))
    assert loaded["passed"] is True and len(loaded["results"]) == report.cases
