"""`procurebot eval`: the golden set over the configured corpus, or a JSONL question set over
any folder of documents; metrics printed and written."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.terminal import app, open_engine, people_errors, read_settings
from bot.logs import setup_logging
from bot.settings import Settings


@app.command(name="eval")
def evaluate(
    golden: Annotated[
        Path | None, typer.Option(help="Golden set (TOML); default tests/eval/golden.toml.")
    ] = None,
    corpus: Annotated[
        Path | None,
        typer.Option(
            help="Evaluate over this folder of documents instead (indexed apart, in "
            "DATA_DIR/eval-index/), with --questions."
        ),
    ] = None,
    questions: Annotated[
        Path | None,
        typer.Option(help="A question set in JSONL (shared/corpora/README.md's format)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for report.md and report.json; default data/eval.")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
) -> None:
    """Run a question set, print the metrics, and fail (exit 1) below the golden set's gate.

    Without options: the golden questions over the configured corpus. With --questions (and
    --corpus DIR): a JSONL set over any corpus, scored for facts, citation precision, refusals
    and near-misses per kind, with latency.
    """
    settings = read_settings()
    setup_logging(settings.data_dir, verbose)
    if corpus is not None and questions is None:
        typer.echo("procurebot: error: --corpus needs --questions (a JSONL set)", err=True)
        raise typer.Exit(2)
    with people_errors():
        if questions is not None:
            _evaluate_set(settings, questions, corpus, out)
        elif not _evaluate_golden(settings, golden, out):
            raise typer.Exit(1)


def _evaluate_golden(settings: Settings, golden: Path | None, out: Path | None) -> bool:
    """Run the golden set and print its report; False when it is below its gate."""
    from bot.evaluation import golden as evaluation
    from bot.settings import PROJECT_ROOT

    cases = evaluation.load_cases(golden or PROJECT_ROOT / "tests" / "eval" / "golden.toml")
    engine = open_engine(settings)
    report = evaluation.evaluate(
        cases,
        lambda question, history: engine.ask(question, history),
        settings.corpus_dir.parent,
        engine.answerer.name,
        engine.answerer.model,
    )
    markdown, data = evaluation.write(report, out or settings.data_dir / "eval")
    typer.echo(evaluation.to_markdown(report))
    typer.echo(f"\nWritten: {markdown} and {data}")
    return report.passed


def _evaluate_set(
    settings: Settings, questions: Path, corpus: Path | None, out: Path | None
) -> None:
    from bot.evaluation import question_sets

    try:
        items = question_sets.load_items(questions)
    except (OSError, question_sets.QuestionSetError) as exc:
        typer.echo(f"procurebot: error: cannot read {questions}: {exc}", err=True)
        raise typer.Exit(2) from exc
    out = out or settings.data_dir / "eval"
    if corpus is not None:
        if not corpus.is_dir():
            typer.echo(f"procurebot: error: {corpus} is not a folder of documents", err=True)
            raise typer.Exit(2)
        corpus = corpus.resolve()
        settings = settings.model_copy(
            update={
                "corpus_dir": corpus,
                "data_dir": settings.data_dir / "eval-index" / question_sets.slug(corpus),
            }
        )
    engine = open_engine(settings)
    engine.reindex()
    results = [
        question_sets.run_item(item, lambda q, h: engine.ask(q, h), settings.corpus_dir.parent)
        for item in items
    ]
    title = (
        f"Evaluation of `{engine.answerer.name}` ({engine.answerer.model}) on {len(items)} "
        f"questions of {questions.name} over {settings.corpus_dir}"
    )
    markdown, data = question_sets.write(results, title, out)
    typer.echo(question_sets.to_markdown(title, results))
    typer.echo(f"\nWritten: {markdown} and {data}")
