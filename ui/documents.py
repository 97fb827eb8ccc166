"""The Documents tab: what is indexed, and (for an admin) adding and removing documents."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.blocks import Block

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


Listing = tuple[list[list[Any]], str, gr.Dropdown, gr.Dropdown]


class _Documents:
    """The tab's handlers: each changes the documents through the workspace (which decides who
    may), then lists them again (`listing`, also run on page load)."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.workspace = context.workspace

    def listing(self) -> Listing:
        """The table, the index state, the uploaded documents (which can be removed) and every
        document (whose details can be corrected)."""
        engine = self.workspace.engine
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
        self,
        files: list[str] | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),
    ) -> tuple[Any, ...]:
        if not files:
            raise gr.Error("Choose one or more files first.", print_exception=False)
        named = [(Path(f).name, Path(f)) for f in files]
        with shown_errors():
            result, report = self.workspace.add_documents(
                self.context.user(request), named, _bar(progress, "Indexing")
            )
        return (*self.listing(), _added(result, report), None)

    def remove_file(
        self, source: str | None, request: gr.Request, progress: gr.Progress = gr.Progress()
    ) -> tuple[Any, ...]:
        if not source:
            raise gr.Error("Choose an uploaded document first.", print_exception=False)
        with shown_errors():
            report = self.workspace.remove_document(
                self.context.user(request), source, _bar(progress, "Re-indexing")
            )
        return (*self.listing(), f"Removed {source}. {_report(report)}")

    @staticmethod
    def ask_to_remove(source: str | None) -> tuple[gr.Group, str, str]:
        """Removing deletes the uploaded file: it is asked once more, naming the file."""
        if not source:
            raise gr.Error("Choose an uploaded document first.", print_exception=False)
        question = (
            f"Remove **{shown(source)}**? The uploaded file is deleted and the index rebuilt "
            "without it: answers will no longer quote it."
        )
        return gr.Group(visible=True), question, source

    def reindex_all(
        self, request: gr.Request, progress: gr.Progress = gr.Progress()
    ) -> tuple[Any, ...]:
        with shown_errors():
            report = self.workspace.reindex(
                self.context.user(request), _bar(progress, "Re-indexing")
            )
        return (*self.listing(), _report(report))

    def save_details(
        self,
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
            report = self.workspace.set_document_details(
                self.context.user(request),
                source,
                DocumentDetails(title, kind, dated),
                _bar(progress, "Re-indexing"),
            )
        return (*self.listing(), f"Saved the details of {shown(source)}. {_report(report)}")


def build_documents_tab(context: Context) -> tuple[Callable[[], Listing], list[Block]]:
    """The tab; returns the listing and what it fills, run on page load."""
    documents = _Documents(context)
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
            removal = _Removal()
            reindex = gr.Button("Re-index changed files", elem_id="pb-d-reindex")
    with gr.Accordion("Correct a document's title, kind or date", open=False):
        editor = _DetailsEditor()
    outcome = gr.Markdown("", elem_id="pb-d-outcome")
    refreshed: list[Block] = [table, freshness, removable, editor.which]
    editor.wire(documents, [*refreshed, outcome])
    add.click(
        documents.add_files, [upload], [*refreshed, outcome, upload], api_visibility="private"
    )
    removal.wire(documents, removable, [*refreshed, outcome])
    reindex.click(documents.reindex_all, None, [*refreshed, outcome], api_visibility="private")
    return documents.listing, refreshed


def _bar(progress: gr.Progress, label: str) -> Callable[[int, int], None]:
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

    def wire(self, documents: _Documents, outputs: list[Block]) -> None:
        """Choosing a document fills the fields; saving re-indexes and lists again."""
        self.which.change(
            lambda source: self.filled(documents.workspace.engine.documents(), source),
            [self.which],
            self.fields,
            api_visibility="private",
        )
        self.save.click(
            documents.save_details,
            [self.which, *self.fields],
            outputs,
            api_visibility="private",
        )

    @staticmethod
    def filled(documents: list[StoredDocument], source: str | None) -> tuple[str, str | None, str]:
        for document in documents:
            if document.source == source:
                return document.title, document.kind, document.date or ""
        return "", None, ""


class _Removal:
    """Remove, and the question it asks once more before the uploaded file is deleted."""

    def __init__(self) -> None:
        self.remove = gr.Button("Remove and re-index…", variant="stop", elem_id="pb-d-remove-btn")
        with gr.Group(visible=False, elem_id="pb-d-confirm") as self.confirm:
            self.asked = gr.Markdown("", elem_id="pb-d-confirm-text")
            with gr.Row():
                self.yes = gr.Button("Yes, remove it", variant="stop", elem_id="pb-d-remove-yes")
                self.cancel = gr.Button("Cancel", elem_id="pb-d-remove-cancel")

    def wire(self, documents: _Documents, removable: gr.Dropdown, outputs: list[Block]) -> None:
        # Yes removes the file the question named, kept apart from the dropdown (which may change).
        to_remove = gr.State("")
        self.remove.click(
            documents.ask_to_remove,
            [removable],
            [self.confirm, self.asked, to_remove],
            api_visibility="private",
        )
        self.yes.click(
            lambda: gr.Group(visible=False), None, self.confirm, api_visibility="private"
        ).then(documents.remove_file, [to_remove], outputs, api_visibility="private").then(
            lambda: "", None, to_remove, api_visibility="private"
        )
        for dismissed in (self.cancel.click, removable.change):
            dismissed(
                lambda: (gr.Group(visible=False), ""),
                None,
                [self.confirm, to_remove],
                api_visibility="private",
            )
