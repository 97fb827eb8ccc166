"""The Questionnaires tab: a CSV or XLSX of questions in, the answered sheet and a report out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from bot import questionnaires
from ui.people import Context, scratch_folder, shown_errors

PREVIEW_COLUMNS = ["Question", "Answer", "Grounded", "Citations"]


def build_questionnaire_tab(context: Context) -> None:
    gr.Markdown(
        "Upload a vendor questionnaire as **CSV or XLSX**: the column headed *Question* (or the "
        "one whose cells end in '?') is answered row by row, with citations. Download the "
        "answered sheet as XLSX or CSV, and a Markdown report."
    )
    with gr.Row():
        upload = gr.File(
            label="Questionnaire (.csv, .xlsx)",
            file_types=list(questionnaires.SUFFIXES),
            elem_id="pb-q-upload",
        )
        run = gr.Button("Answer the questionnaire", variant="primary", elem_id="pb-q-run")
    summary = gr.Markdown("", elem_id="pb-q-summary")
    files = gr.File(label="Answered files", file_count="multiple", interactive=False)
    preview = gr.Dataframe(headers=PREVIEW_COLUMNS, interactive=False, wrap=True)

    def answer(
        path: str | None, request: gr.Request, progress: gr.Progress = gr.Progress()
    ) -> tuple[str, list[str], list[list[Any]]]:
        if not path:
            raise gr.Error("Choose a .csv or .xlsx file first.", print_exception=False)
        engine = context.workspace.engine
        with shown_errors():
            context.user(request)
            sheet = questionnaires.read_questionnaire(Path(path))

            def tick(done: int, total: int) -> None:
                progress((done, total), desc="Answering", unit="questions")

            answered = questionnaires.answer_questionnaire(sheet, engine.ask, tick)
            out = scratch_folder("questionnaire")
            stem = Path(path).stem or "questionnaire"
            written = [out / f"{stem}-answered.xlsx", out / f"{stem}-answered.csv"]
            questionnaires.write_xlsx(sheet, answered, written[0])
            questionnaires.write_csv(sheet, answered, written[1])
            report = out / f"{stem}-answered.md"
            questionnaires.write_report(sheet, answered, report)
        rows = [
            [
                item.question,
                item.answer.answer if item.answer else item.error,
                "yes" if item.answer and item.answer.grounded else "no",
                len(item.answer.citations) if item.answer else 0,
            ]
            for item in answered
        ]
        return questionnaires.summary_line(answered), [str(p) for p in [*written, report]], rows

    run.click(answer, [upload], [summary, files, preview], api_visibility="private")
