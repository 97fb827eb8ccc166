"""The Questionnaires tab: a CSV or XLSX of questions in, the answered sheet and a report out.

Each answered row is kept in the data folder as it is answered (bot.questionnaires.journal):
after a restart, uploading the same file again resumes it, and the tab lists what is unfinished.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from bot.answering.layout import as_plain_text
from bot.questionnaires import answering, reader
from bot.questionnaires import journal as questionnaire_journal
from bot.questionnaires import writer as questionnaire_output
from bot.questionnaires.types import AnsweredRow, Questionnaire
from bot.workspace.access import AccessError
from ui.people import Context, scratch_folder, shown_errors

PREVIEW_COLUMNS = ["Question", "Answer", "Grounded", "Citations"]
Result = tuple[str, list[str], list[list[Any]], str]


def build_questionnaire_tab(context: Context) -> tuple[Callable[..., str], Any]:
    """The tab; returns what the page runs on load to list unfinished questionnaires."""
    gr.Markdown(
        "Upload a vendor questionnaire as **CSV or XLSX**: the column headed *Question* (or the "
        "one whose cells end in '?') is answered row by row, with citations. Download the "
        "answered sheet as XLSX or CSV, and a Markdown report."
    )

    def waiting(request: gr.Request) -> str:
        return unfinished_line(context, request)

    unfinished = gr.Markdown("", elem_id="pb-q-unfinished")
    with gr.Row():
        upload = gr.File(
            label="Questionnaire (.csv, .xlsx)",
            file_types=list(reader.SUFFIXES),
            elem_id="pb-q-upload",
        )
        run = gr.Button("Answer the questionnaire", variant="primary", elem_id="pb-q-run")
    summary = gr.Markdown("", elem_id="pb-q-summary")
    files = gr.File(
        label="Answered files", file_count="multiple", interactive=False, elem_id="pb-q-files"
    )
    preview = gr.Dataframe(
        headers=PREVIEW_COLUMNS,
        interactive=False,
        wrap=True,
        column_widths=["30%", "52%", "8%", "10%"],
        elem_id="pb-q-preview",
    )
    run.click(
        _answer(context),
        [upload],
        [summary, files, preview, unfinished],
        show_progress_on=[summary],  # one progress bar, not one per output
        api_visibility="private",
    )
    return waiting, unfinished


def unfinished_line(context: Context, request: Any) -> str:
    """`Unfinished after a restart: q.csv, 7 of 20 rows done …`, or nothing."""
    try:
        user = context.user(request)
    except AccessError:
        return ""
    data_dir = context.workspace.engine.settings.data_dir
    waiting = [
        f"**{item.name}**, {item.done} of {item.total} rows done"
        for item in questionnaire_journal.unfinished(data_dir)
        if user.sees_everyone or item.by == user.name
    ]
    if not waiting:
        return ""
    return (
        f"Unfinished after an interruption: {'; '.join(waiting)}. Upload the same file again "
        "to answer the rest."
    )


def _answer(context: Context) -> Callable[..., Result]:
    def answer(
        path: str | None, request: gr.Request, progress: gr.Progress = gr.Progress()
    ) -> Result:
        if not path:
            raise gr.Error("Choose a .csv or .xlsx file first.", print_exception=False)
        engine = context.workspace.engine
        settings = engine.settings
        with shown_errors():
            user = context.user(request)
            sheet = reader.read_questionnaire(Path(path), settings.max_upload_mb * 2**20)
            where = questionnaire_journal.in_data_folder(settings.data_dir, sheet.sha256)
            with questionnaire_journal.Journal.open(where, sheet, by=user.name) as journal:
                notes = [*sheet.notices, journal.resumed_line()]

                def tick(done: int, total: int) -> None:
                    progress((done, total), desc="Answering", unit="questions")

                answered = answering.answer_questionnaire(sheet, engine.ask, tick, journal)
                written = _write(sheet, answered, Path(path).stem or "questionnaire")
                journal.finish()
        summary = "\n\n".join([*(note for note in notes if note), answering.summary_line(answered)])
        return summary, written, _preview(answered), unfinished_line(context, request)

    return answer


def _write(sheet: Questionnaire, answered: list[AnsweredRow], stem: str) -> list[str]:
    out = scratch_folder("questionnaire")
    xlsx, csv, report = (out / f"{stem}-answered.{suffix}" for suffix in ("xlsx", "csv", "md"))
    questionnaire_output.write_xlsx(sheet, answered, xlsx)
    questionnaire_output.write_csv(sheet, answered, csv)
    questionnaire_output.write_report(sheet, answered, report)
    return [str(path) for path in (xlsx, csv, report)]


def _preview(answered: list[AnsweredRow]) -> list[list[Any]]:
    return [
        [
            item.question,
            as_plain_text(item.answer) if item.answer else item.error,
            "yes" if item.answer and item.answer.grounded else "no",
            len(item.answer.citations) if item.answer else 0,
        ]
        for item in answered
    ]
