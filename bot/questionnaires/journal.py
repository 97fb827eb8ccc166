"""A questionnaire's progress on disk, so a run killed half-way resumes where it stopped.

The journal is a JSON-lines file. Its first line names the questionnaire (the SHA-256 of the
file's bytes, its name, its number of rows, who started it and when); every further line is
one answered row, keyed by that SHA-256 and the row's number (1 = the first row under the
header, as numbered in the report), holding the row's cells, its question and its answer as
`procurebot ask --json` prints it. Each line is written whole, flushed and fsync'ed before the
next question is asked, so a killed process loses at most the row it was answering.

Opening a journal reads what it holds: a line cut short by the kill (no newline at its end) is
cut off and its row asked again, a line that is not valid JSON or does not fit the file is
skipped, and a journal of another file (a changed questionnaire) starts over. While a run
holds the journal it is locked, so two runs of one questionnaire cannot write into each other.
The journal is deleted once the answers are written (`finish`); a journal that never got a
row is deleted when closed.

The command line keeps the journal beside the output (`answers.xlsx.progress.jsonl`); the web
app keeps it in the data folder (`questionnaires/<sha256>/progress.jsonl`), where `unfinished`
finds the questionnaires a restart interrupted.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from bot.answering.answers import answer_from_json
from bot.questionnaires.types import AnsweredRow, Questionnaire, QuestionnaireOutputError

logger = logging.getLogger(__name__)

KIND = "procurebot questionnaire journal"
VERSION = 1
WEB_FOLDER = "questionnaires"  # under the data folder
WEB_NAME = "progress.jsonl"


def beside(out: Path) -> Path:
    """The journal of the command that writes the answers to `out`."""
    return out.with_name(f"{out.name}.progress.jsonl")


def in_data_folder(data_dir: Path, sha256: str) -> Path:
    """The web app's journal of the questionnaire whose bytes hash to `sha256`."""
    return data_dir / WEB_FOLDER / sha256 / WEB_NAME


@dataclass(frozen=True)
class Unfinished:
    """A questionnaire whose journal is still there: the run was interrupted."""

    name: str
    done: int  # rows in the journal
    total: int
    by: str  # who started it
    started: str  # ISO 8601, UTC


class Journal:
    """The answered rows of one questionnaire, each appended to disk as soon as it is answered."""

    def __init__(
        self,
        path: Path,
        file: IO[bytes],
        questionnaire: Questionnaire,
        done: dict[int, AnsweredRow],
    ) -> None:
        self.path = path
        self.questionnaire = questionnaire
        self.done = dict(done)  # row index (0-based) → its answered row
        self.resumed = tuple(sorted(done))  # the row indexes found when it was opened
        self._file = file

    @classmethod
    def open(cls, path: Path, questionnaire: Questionnaire, by: str = "") -> Journal:
        """The journal at `path` for `questionnaire`, created or resumed, and locked."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            created = not path.exists()
            file = path.open("a+b")
            if created:  # the new name itself survives a crash
                _fsync_folder(path.parent)
        except OSError as exc:
            raise _unwritable(path, exc) from exc
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            file.close()
            raise QuestionnaireOutputError(
                f"{questionnaire.name} is being answered by another procurebot right now (its "
                f"progress is in {path}): wait for it to finish, or write the answers elsewhere."
            ) from exc
        try:
            done = _recover(file, path, questionnaire)
            if not done:
                file.truncate(0)
                _append(file, _header(questionnaire, by))
        except OSError as exc:
            file.close()
            raise _unwritable(path, exc) from exc
        journal = cls(path, file, questionnaire, done)
        if done:
            logger.info("questionnaire %s: %s", questionnaire.name, journal.resumed_line())
        return journal

    def record(self, index: int, item: AnsweredRow) -> None:
        """Append one answered row durably, before the next question is asked."""
        line = {
            "sha256": self.questionnaire.sha256,
            "row": index + 1,
            "cells": list(item.row),
            "question": item.question,
            "answer": item.answer.to_json() if item.answer is not None else None,
            "error": item.error,
        }
        try:
            _append(self._file, line)
        except OSError as exc:
            raise _unwritable(self.path, exc) from exc
        self.done[index] = item

    def resumed_line(self) -> str:
        """`Resumed: rows 1–13 of 20 were already answered; answering 7 more.`"""
        total = len(self.questionnaire.rows)
        if not self.resumed:
            return ""
        if len(self.resumed) == total:
            return f"Resumed: all {total} rows were already answered; writing the answers."
        rows = row_ranges(index + 1 for index in self.resumed)
        were = "row {} of {} was" if len(self.resumed) == 1 else "rows {} of {} were"
        return (
            f"Resumed: {were.format(rows, total)} already answered; "
            f"answering {total - len(self.resumed)} more."
        )

    def saved_line(self) -> str:
        """What an interrupted run keeps, as the next run will find it on disk.

        `Rows 1–7 of 20 are saved in …`; read back from the file, since an interruption can
        come between writing a row and counting it.
        """
        total = len(self.questionnaire.rows)
        self._file.flush()
        self._file.seek(0)
        data = self._file.read()
        saved = _rows(data[: data.rfind(b"\n") + 1], self.questionnaire)
        if not saved:
            return "No row was answered yet."
        rows = row_ranges(index + 1 for index in saved)
        were = "Row {} of {} is" if len(saved) == 1 else "Rows {} of {} are"
        return (
            f"{were.format(rows, total)} saved in {self.path}; run the same command again "
            "to answer the rest."
        )

    def finish(self) -> None:
        """Delete the journal: call once the answers are written."""
        self._remove()
        self._file.close()

    def close(self) -> None:
        """Keep the journal for the next run (unless it holds no row) and release it."""
        if self._file.closed:
            return
        if not self.done:
            self._remove()
        self._file.close()

    def _remove(self) -> None:
        self.path.unlink(missing_ok=True)
        if self.path.name == WEB_NAME:
            try:
                self.path.parent.rmdir()  # the web app's folder for this questionnaire
            except OSError:
                logger.info("kept %s: it holds other files", self.path.parent)

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def row_ranges(numbers: Iterable[int]) -> str:
    """`1–3, 5 and 8–13` for the row numbers 1, 2, 3, 5, 8, …, 13."""
    spans: list[list[int]] = []
    for number in sorted(set(numbers)):
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    parts = [f"{a}" if a == b else f"{a}–{b}" for a, b in spans]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def unfinished(data_dir: Path) -> list[Unfinished]:
    """The web app's questionnaires whose run was interrupted, oldest first."""
    found: list[Unfinished] = []
    for path in sorted((data_dir / WEB_FOLDER).glob(f"*/{WEB_NAME}")):
        try:
            lines = _lines(path.read_bytes())
        except OSError:
            logger.warning("cannot read the questionnaire journal %s", path, exc_info=True)
            continue
        header = lines[0] if lines else {}
        if header.get("kind") != KIND:
            continue
        rows = {line.get("row") for line in lines[1:] if line.get("sha256") == header["sha256"]}
        name, total = str(header.get("name", path.parent.name)), header.get("rows", 0)
        by, started = str(header.get("by", "")), str(header.get("started", ""))
        total = total if isinstance(total, int) else 0
        found.append(Unfinished(name, len(rows), total, by, started))
    return sorted(found, key=lambda item: item.started)


def _header(questionnaire: Questionnaire, by: str) -> dict[str, Any]:
    return {
        "kind": KIND,
        "version": VERSION,
        "sha256": questionnaire.sha256,
        "name": questionnaire.name,
        "rows": len(questionnaire.rows),
        "by": by,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _recover(file: IO[bytes], path: Path, questionnaire: Questionnaire) -> dict[int, AnsweredRow]:
    """The rows a journal holds for this very questionnaire; a torn last line is cut off."""
    file.seek(0)
    data = file.read()
    whole = data[: data.rfind(b"\n") + 1]
    if len(whole) < len(data):
        logger.warning(
            "%s: its last line was cut short (the run was killed while writing it); "
            "that row is asked again",
            path,
        )
        file.truncate(len(whole))
    done = _rows(whole, questionnaire)
    if whole and not done:
        logger.info("%s holds no answered row of this file: starting afresh", path)
    return done


def _rows(whole: bytes, questionnaire: Questionnaire) -> dict[int, AnsweredRow]:
    """The answered rows in a journal's whole lines that fit this very questionnaire."""
    lines = _lines(whole)
    header = lines[0] if lines else {}
    expected = {"kind": KIND, "version": VERSION, "sha256": questionnaire.sha256}
    if any(header.get(key) != value for key, value in expected.items()):
        return {}
    done: dict[int, AnsweredRow] = {}
    for line in lines[1:]:
        item = _answered_row(line, questionnaire)
        if item is not None:
            done[int(line["row"]) - 1] = item
    return done


def _answered_row(line: dict[str, Any], questionnaire: Questionnaire) -> AnsweredRow | None:
    """The row a journal line holds, or None when it does not fit the questionnaire."""
    row = line.get("row")
    if line.get("sha256") != questionnaire.sha256 or not isinstance(row, int):
        return None
    if not 1 <= row <= len(questionnaire.rows):
        return None
    cells = questionnaire.rows[row - 1]
    if (
        line.get("cells") != list(cells)
        or line.get("question") != cells[questionnaire.question_column]
    ):
        return None
    try:
        answer = answer_from_json(line["answer"]) if line.get("answer") is not None else None
    except (TypeError, KeyError, ValueError):
        logger.warning("a journal line of row %d does not hold an answer: asking again", row)
        return None
    return AnsweredRow(cells, line["question"], answer, str(line.get("error", "")))


def _lines(data: bytes) -> list[dict[str, Any]]:
    """The JSON objects of whole lines; a line that is not one is skipped with a warning."""
    lines: list[dict[str, Any]] = []
    for number, raw in enumerate(data.splitlines(), start=1):
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if isinstance(value, dict):
            lines.append(value)
        elif raw.strip():
            logger.warning("questionnaire journal line %d is not JSON: skipped", number)
    return lines


def _append(file: IO[bytes], value: dict[str, Any]) -> None:
    file.write(json.dumps(value, ensure_ascii=False).encode("utf-8") + b"\n")
    file.flush()
    os.fsync(file.fileno())


def _fsync_folder(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _unwritable(path: Path, exc: OSError) -> QuestionnaireOutputError:
    return QuestionnaireOutputError(
        f"Cannot keep the questionnaire's progress in {path}: {exc.strerror or exc}; check the "
        "folder is writable."
    )
