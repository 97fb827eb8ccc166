"""`procurebot index`, `ask` and `calibrate`: the index brought in line with the corpus, a
question (or each line of stdin) answered with citations, the relevance gates printed."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.terminal import app, open_engine, people_errors, progress_bar, read_settings
from bot.errors import QuestionError
from bot.logs import setup_logging
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.answering.answers import Answer
    from bot.answering.engine import Engine
    from index.indexing import IndexReport


@app.command()
def index(
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Drop the index and embed every document again.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
) -> None:
    """Bring the index in line with corpus/: embed new and changed files, drop deleted ones.

    With --rebuild, an index too damaged to open is moved aside (nothing is deleted) and a
    new one is built from the documents; on a Chroma server (CHROMA_HOST or CHROMA_URL), its
    two collections are deleted and built again.
    """
    settings = read_settings()
    setup_logging(settings.data_dir, verbose)
    with people_errors():
        from bot.answering.engine import open_store, refresh_index
        from index.embeddings import load_embedder

        embedder = load_embedder(settings.embedding_model, settings.embedding_threads)
        store = open_store(settings, embedder, rebuild=rebuild)
        if store.moved_aside is not None:
            typer.echo(
                f"procurebot: note: the index {store.location.where} was damaged: moved it "
                f"aside to {store.moved_aside} (delete that folder when you no longer need it); "
                "building a new one from the documents.",
                err=True,
            )
        report = refresh_index(settings, store, embedder, progress_bar("Embedding"))
    typer.echo(format_report(report, settings))


def format_report(report: IndexReport, settings: Settings) -> str:
    lines = [
        f"Indexed {settings.corpus_dir} with {report.embedding_model} in {report.seconds:.1f} s:"
    ]
    for label, sources in (
        ("added", report.added),
        ("updated", report.updated),
        ("removed", report.removed),
        ("relabelled", report.relabelled),  # a catalog edit: title, kind or date only
        ("unchanged", report.unchanged),
    ):
        names = ", ".join(sources) if sources else "-"
        lines.append(f"  {label:<10}{len(sources):>3}  {names}")
    lines.append(
        f"  {'skipped':<10}{len(report.skipped):>3}  "
        + ("; ".join(f"{source}: {reason}" for source, reason in report.skipped) or "-")
    )
    lines.append(
        f"{report.chunks_total} chunks in the index {settings.store_location.where}; "
        f"{report.chunks_embedded} embedded in this run."
    )
    lines.extend(f"Note: {note}." for note in report.notes)
    return "\n".join(lines)


@app.command()
def ask(
    question: Annotated[
        str | None,
        typer.Argument(help="The question. Without it, one question per line is read from stdin."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per answer.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
) -> None:
    """Answer a question (or each line of stdin) with citations of the source documents."""
    settings = read_settings()
    setup_logging(settings.data_dir, verbose)
    if question is not None:
        with people_errors():
            from bot.answering.questions import clean_question

            clean_question(question, settings.max_question_chars)  # reject before loading
            engine = open_engine(settings)
            answer = engine.ask(question)
        _print_answer(answer, as_json)
        return
    with people_errors():
        engine = open_engine(settings)
        failures = sum(
            not _answer_line(engine, number, raw, as_json)
            for number, raw in enumerate(sys.stdin.buffer, start=1)
        )
    if failures:
        raise typer.Exit(1)


def _answer_line(engine: Engine, number: int, raw: bytes, as_json: bool) -> bool:
    """Answer one line of batch input; blank lines are skipped. False when it failed."""
    try:
        line = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        return _line_error(number, "", "the line is not valid UTF-8 text", as_json)
    if not line.strip():
        return True
    try:
        answer = engine.ask(line)
    except QuestionError as exc:
        return _line_error(number, line, str(exc), as_json)
    _print_answer(answer, as_json)
    return True


def _line_error(number: int, line: str, message: str, as_json: bool) -> bool:
    typer.echo(f"procurebot: error: line {number}: {message}", err=True)
    if as_json:
        typer.echo(
            json.dumps({"line": number, "question": line, "error": message}, ensure_ascii=False)
        )
    return False


def _print_answer(answer: Answer, as_json: bool) -> None:
    from bot.answering.answers import render_sources

    for notice in answer.notices:
        typer.echo(f"procurebot: note: {notice}", err=True)
    if as_json:
        typer.echo(json.dumps(answer.to_json(), ensure_ascii=False))
        return
    typer.echo(answer.answer)
    if answer.citations:
        typer.echo("\nSources:\n" + render_sources(answer))
    typer.echo("")


@app.command()
def calibrate(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
) -> None:
    """Derive and print the relevance gates for the embedding model and corpus in use.

    Each gate is measured from off-domain probe questions (bot/answering/calibration.py);
    the engine derives the same gates by itself whenever the index changes.
    """
    settings = read_settings()
    setup_logging(settings.data_dir, verbose)
    with people_errors():
        from bot.answering.calibration import to_text
        from index.embeddings import model_name

        engine = open_engine(settings)
        text = to_text(engine.retriever.gates, model_name(engine.embedder))
    typer.echo(text)
