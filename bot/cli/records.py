"""`procurebot questionnaire`, `conversations`, `export` and `transcript-schema`: what is kept
and handed over — answered questionnaires, saved conversations, their exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.terminal import (
    app,
    logger,
    open_engine,
    people_errors,
    progress_bar,
    read_settings,
)
from bot.logs import setup_logging


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
    settings = read_settings()
    setup_logging(settings.data_dir, verbose)
    with people_errors():
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
            engine = open_engine(settings)
            try:
                answered = answering.answer_questionnaire(
                    sheet, engine.ask, progress_bar("Answering", unit="question"), journal
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
    settings = read_settings()
    setup_logging(settings.data_dir)
    with people_errors():
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
    settings = read_settings()
    setup_logging(settings.data_dir)
    with people_errors():
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
