"""The Documents tab: what is indexed, and (for an admin) adding and removing documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from bot.workspace.documents import (
    KINDS,
    SUPPORTED_SUFFIXES,
    DocumentDetails,
    IndexReport,
    StoredDocument,
    shared_index,
)
from bot.workspace.uploads import UploadResult
from ui.people import Context, shown_errors
from ui.render import shown

HEADERS = ["Title", "Kind", "Date", "Chunks", "Indexed (UTC)", "Source"]


def document_rows(documents: list[StoredDocument]) -> list[list[Any]]:
    """The Documents table's rows (`HEADERS`); a description follows the title."""
    return [
        [
            f"{d.title} — {d.description}" if d.description else d.title,
            d.kind,
            _dated(d.date, d.date_basis),
            d.n_chunks,
            d.indexed_at[:16].replace("T", " "),
            d.source,
        ]
        for d in documents
    ]


def build_documents_tab(context: Context) -> Any:
    workspace = context.workspace
    table = gr.Dataframe(
        headers=HEADERS,
        interactive=False,
        wrap=True,
        column_widths=["34%", "10%", "15%", "7%", "12%", "22%"],  # fits: no sideways scrolling
        elem_id="pb-d-table",
    )
    freshness = gr.Markdown("", elem_id="pb-d-freshness")
    with gr.Row():
        upload = gr.File(
            label="Add documents (" + ", ".join(sorted(SUPPORTED_SUFFIXES)) + ")",
            file_count="multiple",
            file_types=sorted(SUPPORTED_SUFFIXES),
            elem_id="pb-d-upload",
        )
        with gr.Column():
            add = gr.Button("Add and index", variant="primary", elem_id="pb-d-add")
            removable = gr.Dropdown(choices=[], label="Uploaded document", elem_id="pb-d-remove")
            remove = gr.Button("Remove and re-index…", variant="stop", elem_id="pb-d-remove-btn")
            with gr.Group(visible=False, elem_id="pb-d-confirm") as confirm:
                asked = gr.Markdown("", elem_id="pb-d-confirm-text")
                with gr.Row():
                    yes = gr.Button("Yes, remove it", variant="stop", elem_id="pb-d-remove-yes")
                    cancel = gr.Button("Cancel", elem_id="pb-d-remove-cancel")
            reindex = gr.Button("Re-index changed files", elem_id="pb-d-reindex")
    with gr.Accordion("Correct a document's title, kind or date", open=False):
        editor = _DetailsEditor()
    outcome = gr.Markdown("", elem_id="pb-d-outcome")

    def listing() -> tuple[list[list[Any]], str, Any, Any]:
        engine = workspace.engine
        documents = engine.documents()
        rows = document_rows(documents)
        pending, unreadable = engine.corpus_state()
        state = (
            f"**{len(pending)} change(s) not indexed yet:** {', '.join(pending)}"
            if pending
            else f"Index up to date: {len(documents)} documents, corpus fingerprint "
            f"`{engine.corpus_fingerprint[:12]}`."
        )
        state += "".join(
            f" **{shown(source)} cannot be read:** {shown(reason)}."
            for source, reason in unreadable
        )
        where = shared_index(engine.store.location)
        if where:  # shared with other copies of the app
            state += f" The index is {where}."
        prefix = f"{engine.settings.uploads_dir.name}/"
        uploaded = [d.source for d in documents if d.source.startswith(prefix)]
        every = [d.source for d in documents]
        return rows, state, gr.Dropdown(choices=uploaded, value=None), gr.Dropdown(choices=every)

    def add_files(
        files: list[str] | None, request: gr.Request, progress: gr.Progress = gr.Progress()
    ) -> tuple[Any, ...]:
        if not files:
            raise gr.Error("Choose one or more files first.", print_exception=False)
        named = [(Path(f).name, Path(f)) for f in files]
        with shown_errors():
            result, report = workspace.add_documents(
                context.user(request), named, _bar(progress, "Indexing")
            )
        return (*listing(), _added(result, report), None)

    def remove_file(
        source: str | None, request: gr.Request, progress: gr.Progress = gr.Progress()
    ) -> tuple[Any, ...]:
        if not source:
            raise gr.Error("Choose an uploaded document first.", print_exception=False)
        with shown_errors():
            report = workspace.remove_document(
                context.user(request), source, _bar(progress, "Re-indexing")
            )
        return (*listing(), f"Removed {source}. {_report(report)}")

    def ask_to_remove(source: str | None) -> tuple[Any, str, str]:
        """Removing deletes the uploaded file: it is asked once more, naming the file."""
        if not source:
            raise gr.Error("Choose an uploaded document first.", print_exception=False)
        question = (
            f"Remove **{shown(source)}**? The uploaded file is deleted and the index rebuilt "
            "without it: answers will no longer quote it."
        )
        return gr.Group(visible=True), question, source

    def reindex_all(request: gr.Request, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        with shown_errors():
            report = workspace.reindex(context.user(request), _bar(progress, "Re-indexing"))
        return (*listing(), _report(report))

    def save_details(
        source: str | None,
        title: str,
        kind: str,
        dated: str,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),
    ) -> tuple[Any, ...]:
        if not source:
            raise gr.Error("Choose a document first.", print_exception=False)
        with shown_errors():
            report = workspace.set_document_details(
                context.user(request),
                source,
                DocumentDetails(title, kind, dated),
                _bar(progress, "Re-indexing"),
            )
        return (*listing(), f"Saved the details of {shown(source)}. {_report(report)}")

    refreshed = [table, freshness, removable, editor.which]
    editor.which.change(
        lambda source: editor.filled(workspace.engine.documents(), source),
        [editor.which],
        editor.fields,
        api_visibility="private",
    )
    editor.save.click(
        save_details,
        [editor.which, *editor.fields],
        [*refreshed, outcome],
        api_visibility="private",
    )
    add.click(add_files, [upload], [*refreshed, outcome, upload], api_visibility="private")
    # Yes removes the file the question named, kept apart from the dropdown (which may change).
    to_remove = gr.State("")
    remove.click(ask_to_remove, [removable], [confirm, asked, to_remove], api_visibility="private")
    yes.click(lambda: gr.Group(visible=False), None, confirm, api_visibility="private").then(
        remove_file, [to_remove], [*refreshed, outcome], api_visibility="private"
    ).then(lambda: "", None, to_remove, api_visibility="private")
    for dismissed in (cancel.click, removable.change):
        dismissed(
            lambda: (gr.Group(visible=False), ""),
            None,
            [confirm, to_remove],
            api_visibility="private",
        )
    reindex.click(reindex_all, None, [*refreshed, outcome], api_visibility="private")
    return listing, refreshed


def _bar(progress: gr.Progress, label: str) -> Any:
    def update(done: int, total: int) -> None:
        if total:
            progress((done, total), desc=label, unit="chunks")

    return update


def _added(result: UploadResult, report: IndexReport | None) -> str:
    lines = []
    if result.added:
        lines.append("Added: " + shown(", ".join(result.added)) + ".")
    if result.replaced:
        lines.append(
            "Replaced an earlier upload of the same name: " + shown(", ".join(result.replaced))
        )
    for name, kept in result.duplicates:
        lines.append(
            f"**Not added {shown(name)}:** the same file is already uploaded as {shown(kept)}."
        )
    for name, reason in result.refused:
        lines.append(
            f"**Refused {shown(name)}:** {shown(reason)}. Nothing was changed for this file."
        )
    if report is not None:
        lines.append(_report(report))
    return "\n\n".join(lines)


def _report(report: IndexReport) -> str:
    skipped = "".join(
        f" Skipped {shown(source)}: {shown(reason)}." for source, reason in report.skipped
    )
    return (
        f"Indexed in {report.seconds:.1f} s: {len(report.added)} added, {len(report.updated)} "
        f"updated, {len(report.removed)} removed, {len(report.relabelled)} relabelled, "
        f"{len(report.unchanged)} unchanged; "
        f"{report.chunks_embedded} chunks embedded, {report.chunks_total} in the index.{skipped}"
    )


def _dated(date: str | None, basis: str) -> str:
    """The date column: a date guessed from the text (the newest it mentions) says so."""
    if not date:
        return ""
    return f"{date} (guessed from text)" if basis.startswith("guessed") else date


class _DetailsEditor:
    """The fields an admin corrects a document's details with (`bot.workspace.documents`)."""

    def __init__(self) -> None:
        self.which = gr.Dropdown(choices=[], label="Document", elem_id="pb-d-which")
        with gr.Row():
            title = gr.Textbox(label="Title", elem_id="pb-d-title", scale=3)
            kind = gr.Dropdown(choices=list(KINDS), label="Kind", elem_id="pb-d-kind")
            dated = gr.Textbox(label="Date (YYYY-MM-DD)", elem_id="pb-d-date")
        self.fields = [title, kind, dated]
        self.save = gr.Button("Save details and re-index", elem_id="pb-d-save")

    @staticmethod
    def filled(documents: list[Any], source: str | None) -> tuple[str, Any, str]:
        for document in documents:
            if document.source == source:
                return document.title, document.kind, document.date or ""
        return "", None, ""
