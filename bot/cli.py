"""The `procurebot` command: index the corpus, ask questions, serve the web chat.

Exit codes: 0 done; 1 something failed (the message says what to do); 2 bad input or usage.
Heavy libraries are imported inside the commands, so `procurebot --help` answers at once.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.errors import ProcurebotError, QuestionError
from bot.logs import setup_logging
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.answering.answers import Answer
    from bot.answering.engine import Engine
    from index.indexing import IndexReport

logger = logging.getLogger(__name__)

app = typer.Typer(
    help="Cited answers about an AI vendor's models, from the documents in corpus/.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@contextmanager
def _people_errors() -> Iterator[None]:
    """Turn every failure into one line on stderr and an exit code; details go to the log."""
    from pydantic import ValidationError

    try:
        yield
    except QuestionError as exc:
        typer.echo(f"procurebot: error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except ProcurebotError as exc:
        logger.info("failed: %s", exc, exc_info=True)
        typer.echo(f"procurebot: error: {exc}", err=True)
        raise typer.Exit(1) from exc
    except ValidationError as exc:
        problems = "; ".join(_setting_problem(error) for error in exc.errors())
        typer.echo(f"procurebot: error: invalid setting: {problems}", err=True)
        raise typer.Exit(2) from exc
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:  # the last boundary: the log keeps the traceback, the user a line
        logger.exception("unexpected failure")
        typer.echo(
            f"procurebot: error: unexpected failure ({type(exc).__name__}: {exc}); "
            "the traceback is in procurebot.log in the data folder.",
            err=True,
        )
        raise typer.Exit(1) from exc


def _setting_problem(error: Any) -> str:
    """'PROCUREBOT_TOP_K: Input should be ...'; a setting with a standard name (CHROMA_URL) is
    named so, and a problem of several settings together is its message alone."""
    message = str(error["msg"]).removeprefix("Value error, ")
    name = "_".join(map(str, error["loc"]))
    if not name:
        return message
    return f"{name if name.isupper() else 'PROCUREBOT_' + name.upper()}: {message}"


def _settings(**overrides: Any) -> Settings:
    with _people_errors():
        return Settings(**overrides)


def _progress(description: str, unit: str = "chunk") -> Callable[[int, int], None]:
    """A progress callback that draws a bar on a terminal once there is work to show."""
    from tqdm import tqdm

    bar: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if total == 0:
            return
        if "bar" not in bar:
            bar["bar"] = tqdm(
                total=total,
                desc=description,
                unit=unit,
                file=sys.stderr,
                disable=None,
                leave=False,
            )
        bar["bar"].n = done
        bar["bar"].refresh()
        if done >= total:
            bar["bar"].close()

    return update


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
    settings = _settings()
    setup_logging(settings.data_dir, verbose)
    with _people_errors():
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
        report = refresh_index(settings, store, embedder, _progress("Embedding"))
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
    settings = _settings()
    setup_logging(settings.data_dir, verbose)
    if question is not None:
        with _people_errors():
            from bot.answering.questions import clean_question

            clean_question(question, settings.max_question_chars)  # reject before loading
            engine = _open_engine(settings)
            answer = engine.ask(question)
        _print_answer(answer, as_json)
        return
    with _people_errors():
        engine = _open_engine(settings)
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


def _open_engine(settings: Settings) -> Engine:
    from bot.answering.engine import Engine

    return Engine.open(settings, _progress("Building the index (first use)"))


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
    settings = _settings()
    setup_logging(settings.data_dir, verbose)
    with _people_errors():
        from bot.answering.calibration import to_text
        from index.embeddings import model_name

        engine = _open_engine(settings)
        text = to_text(engine.retriever.gates, model_name(engine.embedder))
    typer.echo(text)


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
    settings = _settings()
    setup_logging(settings.data_dir, verbose)
    if corpus is not None and questions is None:
        typer.echo("procurebot: error: --corpus needs --questions (a JSONL set)", err=True)
        raise typer.Exit(2)
    with _people_errors():
        if questions is not None:
            _evaluate_set(settings, questions, corpus, out)
            return
        from bot.evaluation import golden as evaluation
        from bot.settings import PROJECT_ROOT

        cases = evaluation.load_cases(golden or PROJECT_ROOT / "tests" / "eval" / "golden.toml")
        engine = _open_engine(settings)
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
    if not report.passed:
        raise typer.Exit(1)


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
    engine = _open_engine(settings)
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


@app.command()
def questionnaire(
    source: Annotated[
        Path, typer.Argument(metavar="IN", help="The questionnaire: a .csv or .xlsx file.")
    ],
    out: Annotated[
        Path, typer.Argument(metavar="OUT", help="The answers, .xlsx or .csv; a .md report too.")
    ],
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
) -> None:
    """Answer every question of a vendor questionnaire, each with its cited sources.

    Each answered row is kept in OUT.progress.jsonl until the answers are written: if the run is
    interrupted, the same command again resumes where it stopped.
    """
    settings = _settings()
    setup_logging(settings.data_dir, verbose)
    with _people_errors():
        from bot.questionnaires import answering, reader
        from bot.questionnaires import journal as questionnaire_journal
        from bot.questionnaires import writer as questionnaire_output
        from bot.questionnaires.types import QuestionnaireError

        try:  # the file is checked before the index is opened
            questionnaire_output.check_output(source, out)
            sheet = reader.read_questionnaire(source, settings.max_upload_mb * 2**20)
        except QuestionnaireError as exc:
            logger.info("questionnaire rejected: %s", exc)
            typer.echo(f"procurebot: error: {exc}", err=True)
            raise typer.Exit(2) from exc
        for notice in sheet.notices:
            typer.echo(f"Note: {notice}")
        progress_file = questionnaire_journal.beside(out)
        with questionnaire_journal.Journal.open(progress_file, sheet) as journal:
            if journal.resumed:
                typer.echo(journal.resumed_line())
            engine = _open_engine(settings)
            try:
                answered = answering.answer_questionnaire(
                    sheet, engine.ask, _progress("Answering", unit="question"), journal
                )
            except KeyboardInterrupt:
                typer.echo(f"procurebot: interrupted. {journal.saved_line()}", err=True)
                raise typer.Exit(130) from None
            title = f"Answers to {source.name}"
            report = questionnaire_output.write_answers(sheet, answered, out, title)
            journal.finish()
    typer.echo(f"{answering.summary_line(answered)} Written: {out}, {report}")


@app.command()
def conversations(
    user: Annotated[str | None, typer.Option(help="Only this person's conversations.")] = None,
    search: Annotated[
        str, typer.Option(help="Only those whose questions or answers say this.")
    ] = "",
) -> None:
    """List saved conversations, newest first (their ids are what `export` takes)."""
    settings = _settings()
    setup_logging(settings.data_dir)
    with _people_errors():
        from bot.transcripts.store import TranscriptStore

        found = TranscriptStore(settings.transcripts_database_url).conversations(user, search)
    for c in found:
        typer.echo(f"{c.id}  {c.updated_at}  {c.user:<12} {c.turns:>3} answers  {c.title}")
    if not found:
        typer.echo("No saved conversation matches.", err=True)


@app.command()
def export(
    conversation_id: Annotated[
        str, typer.Argument(help="As listed by `procurebot conversations`.")
    ],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="md, json or docx (a reviewer document).")
    ] = "md",
    out: Annotated[Path, typer.Option(help="Folder to write the file into.")] = Path("."),
) -> None:
    """Export a saved conversation for review, with the quotes and sources of every citation."""
    settings = _settings()
    setup_logging(settings.data_dir)
    with _people_errors():
        from bot.transcripts.exports import export as export_conversation
        from bot.transcripts.store import TranscriptStore

        store = TranscriptStore(settings.transcripts_database_url)
        conversation = store.conversation(conversation_id)
        path = export_conversation(conversation, fmt, out)
    typer.echo(f"Written: {path}")


@app.command(name="transcript-schema")
def transcript_schema() -> None:
    """Print the JSON Schema of `export --format json` (every field described)."""
    from bot.transcripts.exports import json_schema

    typer.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


@app.command()
def user(
    name: Annotated[str, typer.Argument(help="The login name.")],
    role: Annotated[str, typer.Option(help="user, reviewer or admin.")] = "user",
) -> None:
    """Print a users-file entry for NAME with a hashed password (asked for, never echoed)."""
    from bot.workspace.access import ROLES, hash_password

    if (
        role not in ROLES
        or not name.strip()
        or not name.replace("-", "").replace("_", "").isalnum()
    ):
        typer.echo(
            f"procurebot: error: the name is letters, digits, - and _; the role one of "
            f"{', '.join(ROLES)}.",
            err=True,
        )
        raise typer.Exit(2)
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    if len(password) < 8:
        typer.echo("procurebot: error: use a password of at least 8 characters.", err=True)
        raise typer.Exit(2)
    typer.echo(f'[users.{name}]\nrole = "{role}"\npassword = "{hash_password(password)}"')


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 7860).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
) -> None:
    """Start the web app: chat, review, questionnaires and documents."""
    overrides = {key: value for key, value in (("host", host), ("port", port)) if value is not None}
    settings = _settings(**overrides)
    setup_logging(settings.data_dir, verbose)
    with _people_errors():
        from bot.workspace.access import Directory
        from bot.workspace.service import Workspace
        from index.location import ChromaServer

        directory = Directory.load(settings.users_file) if settings.users_file else None
        if directory is None and settings.host not in ("127.0.0.1", "localhost", "::1"):
            logger.warning(
                "serving on %s without login: anyone who can reach it sees every conversation; "
                "set PROCUREBOT_USERS_FILE (README, 'Access')",
                settings.host,
            )
        workspace = Workspace.open(settings, _progress("Building the index (first use)"))
        from ui.app import launch

        location = settings.store_location
        index = f" (index {location.where})" if isinstance(location, ChromaServer) else ""
        typer.echo(
            f"procurebot: serving on http://{settings.host}:{settings.port}{index}", err=True
        )
        launch(workspace, settings.host, settings.port, directory=directory, block=True)


def main() -> None:
    """Console entry point."""
    app()
