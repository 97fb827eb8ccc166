"""A questionnaire interrupted half-way resumes from its journal, asking no row twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from bot.answering.answers import Answer
from bot.answering.engine import Engine
from bot.questionnaires.answering import answer_questionnaire
from bot.questionnaires.journal import Journal, beside, in_data_folder, row_ranges, unfinished
from bot.questionnaires.reader import read_questionnaire
from bot.questionnaires.types import AnsweredRow, Questionnaire, QuestionnaireOutputError
from bot.transcripts.store import TranscriptStore
from bot.workspace.service import Workspace
from tests.reliability import Recorder
from tests.test_questionnaires import QUESTIONS, _csv

TOTAL = len(QUESTIONS)


def _questionnaire(path: Path, questions: list[str]) -> Questionnaire:
    path.write_bytes(_csv([["id", "question"], *([str(i), q] for i, q in enumerate(questions, 1))]))
    return read_questionnaire(path)


def _row(questionnaire: Questionnaire, index: int) -> AnsweredRow:
    """Row `index` answered as a backend would, without asking it."""
    question = questionnaire.rows[index][questionnaire.question_column]
    answer = Answer(question, f"Answer {index + 1}.", "extractive", "extractive", grounded=False)
    return AnsweredRow(questionnaire.rows[index], question, answer)


def _journal_rows(path: Path) -> list[int]:
    """The row numbers of the journal's whole, valid lines, as a resumed run sees them."""
    data = path.read_bytes() if path.exists() else b""
    rows = []
    for raw in data[: data.rfind(b"\n") + 1].splitlines()[1:]:
        try:
            rows.append(json.loads(raw)["row"])
        except ValueError:
            continue
    return rows


# The journal


def test_a_torn_last_line_is_cut_off_and_its_row_asked_again(tmp_path: Path) -> None:
    questionnaire = _questionnaire(tmp_path / "q.csv", [q for _, q in QUESTIONS[:5]])
    path = beside(tmp_path / "out.xlsx")
    with Journal.open(path, questionnaire) as journal:
        for index in range(3):
            journal.record(index, _row(questionnaire, index))
    whole = path.read_bytes()
    line = json.dumps({"sha256": questionnaire.sha256, "row": 4, "cells": ["4", "Is"]})
    path.write_bytes(whole + line.encode()[:40])  # killed while writing row 4
    with Journal.open(path, questionnaire) as journal:
        assert sorted(journal.done) == [0, 1, 2]
        assert journal.done[2] == _row(questionnaire, 2)  # the answer comes back whole
        assert journal.resumed_line() == (
            "Resumed: rows 1–3 of 5 were already answered; answering 2 more."
        )
        assert path.read_bytes() == whole  # the torn line is gone before anything is appended
        journal.record(3, _row(questionnaire, 3))
    assert _journal_rows(path) == [1, 2, 3, 4]
    assert all(json.loads(raw) for raw in path.read_bytes().splitlines())


def test_a_changed_file_starts_over_and_a_finished_journal_is_gone(tmp_path: Path) -> None:
    first = _questionnaire(tmp_path / "q.csv", ["Is it EU hosted?", "What does it cost?"])
    path = beside(tmp_path / "out.csv")
    with Journal.open(path, first) as journal:
        journal.record(0, _row(first, 0))
    changed = _questionnaire(tmp_path / "q.csv", ["Is it EU hosted?", "What does it cost now?"])
    with Journal.open(path, changed) as journal:
        assert journal.done == {} and journal.resumed_line() == ""
        journal.record(1, _row(changed, 1))
        journal.finish()
    assert not path.exists()
    with Journal.open(path, changed):  # a run that answers nothing leaves nothing behind
        pass
    assert not path.exists()


def test_lines_that_do_not_fit_the_file_are_asked_again(tmp_path: Path) -> None:
    questionnaire = _questionnaire(tmp_path / "q.csv", ["Is it EU hosted?", "What does it cost?"])
    path = beside(tmp_path / "out.csv")
    with Journal.open(path, questionnaire) as journal:
        journal.record(0, _row(questionnaire, 0))
    line = json.loads(path.read_bytes().splitlines()[1])
    strays = [
        b"not json",
        json.dumps(line | {"row": 2}).encode(),  # row 1's cells under row 2's number
        json.dumps(line | {"row": 9}).encode(),
        json.dumps(line | {"sha256": "0" * 64, "row": 2}).encode(),
        json.dumps(line | {"answer": {"question": "?"}}).encode(),
    ]
    with path.open("ab") as out:
        out.write(b"\n".join(strays) + b"\n")
    with Journal.open(path, questionnaire) as journal:
        assert sorted(journal.done) == [0]


def test_two_runs_of_one_questionnaire_cannot_share_its_journal(tmp_path: Path) -> None:
    questionnaire = _questionnaire(tmp_path / "q.csv", ["Is it EU hosted?"])
    path = in_data_folder(tmp_path / "data", questionnaire.sha256)
    with (
        Journal.open(path, questionnaire, by="alice"),
        pytest.raises(QuestionnaireOutputError, match="being answered by another") as error,
    ):
        Journal.open(path, questionnaire, by="bob")
    assert "\n" not in str(error.value)


def test_unfinished_lists_the_web_apps_interrupted_questionnaires(tmp_path: Path) -> None:
    questionnaire = _questionnaire(tmp_path / "q.csv", [q for _, q in QUESTIONS[:4]])
    data = tmp_path / "data"
    with Journal.open(in_data_folder(data, questionnaire.sha256), questionnaire, "rita") as journal:
        journal.record(0, _row(questionnaire, 0))
        journal.record(1, _row(questionnaire, 1))
    (item,) = unfinished(data)
    assert (item.name, item.done, item.total, item.by) == ("q.csv", 2, 4, "rita")
    with Journal.open(in_data_folder(data, questionnaire.sha256), questionnaire) as journal:
        journal.finish()
    assert unfinished(data) == [] and list((data / "questionnaires").iterdir()) == []


@pytest.mark.parametrize(
    ("numbers", "text"),
    [([4], "4"), ([1, 3], "1 and 3"), ([1, 2, 3, 5, 8, 9, 10], "1–3, 5 and 8–10")],
)
def test_row_ranges(numbers: list[int], text: str) -> None:
    assert row_ranges(numbers) == text


# Answering with a journal, with the real engine


def _counting(engine: Engine, asked: list[str]) -> Callable[[str], Answer]:
    def ask(question: str) -> Answer:
        asked.append(question)
        return engine.ask(question)

    return ask


def test_resumed_rows_are_not_asked_again(engine: Engine, tmp_path: Path) -> None:
    questionnaire = _questionnaire(tmp_path / "q.csv", [q for _, q in QUESTIONS[:4]])
    path = beside(tmp_path / "out.csv")
    asked: list[str] = []
    with Journal.open(path, questionnaire) as journal:
        first = answer_questionnaire(questionnaire, _counting(engine, asked), journal=journal)
    header, *lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(header + lines[0] + lines[2])  # rows 2 and 4 never reached the disk
    with Journal.open(path, questionnaire) as journal:
        again = answer_questionnaire(questionnaire, _counting(engine, asked), journal=journal)
        journal.finish()
    questions = [q for _, q in QUESTIONS[:4]]
    assert asked == [*questions, questions[1], questions[3]]
    assert [item.question for item in again] == questions
    for before, after in zip(first, again, strict=True):
        assert before.answer and after.answer and after.answer.answer == before.answer.answer
    for index in (0, 2):  # the journalled answers come back whole
        before, after = (items[index].answer for items in (first, again))
        assert before and after and after.to_json() == json.loads(json.dumps(before.to_json()))
    assert not path.exists()


def test_the_web_tab_resumes_an_uploaded_questionnaire(engine: Engine, tmp_path: Path) -> None:
    from ui.people import Context
    from ui.questionnaire import _answer, unfinished_line

    context = Context(Workspace(engine, TranscriptStore(tmp_path / "t.sqlite")))
    questionnaire = _questionnaire(tmp_path / "q.csv", [q for _, q in QUESTIONS[:3]])
    path = in_data_folder(engine.settings.data_dir, questionnaire.sha256)
    try:
        with Journal.open(path, questionnaire, by="local") as journal:
            journal.record(0, _row(questionnaire, 0))
        assert unfinished_line(context, None) == (
            "Unfinished after an interruption: **q.csv**, 1 of 3 rows done. Upload the same "
            "file again to answer the rest."
        )
        summary, files, preview, waiting = _answer(context)(str(tmp_path / "q.csv"), None)
    finally:
        path.unlink(missing_ok=True)
    assert summary.startswith(
        "Resumed: row 1 of 3 was already answered; answering 2 more.\n\nAnswered 3 questions: "
    )
    assert preview[0][1] == "Answer 1." and len(preview) == 3
    assert [Path(file).suffix for file in files] == [".xlsx", ".csv", ".md"]
    assert waiting == "" and not path.parent.exists()


# The command, killed and run again


def _start(data_dir: Path, *args: str) -> subprocess.Popen[bytes]:
    """`procurebot` in the background, as tests.conftest.run_cli runs it."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PROCUREBOT_", "MISTRAL_"))
    }
    environment["PROCUREBOT_DATA_DIR"] = str(data_dir)
    executable = Path(sys.executable).with_name("procurebot")
    return subprocess.Popen(
        [str(executable), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
        preexec_fn=_interruptible,
    )


def _interruptible() -> None:
    """Ctrl-C as at a terminal: a shell starts background jobs (a test run under `nohup …
    &`, say) with SIGINT ignored, and a Python started so never raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt_after(
    process: subprocess.Popen[bytes], journal: Path, rows: int, sig: signal.Signals
) -> tuple[bytes, bytes]:
    """Send `sig` once the journal holds `rows` answered rows; what the process printed."""
    deadline = time.monotonic() + 240
    try:
        while len(_journal_rows(journal)) < rows:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the questionnaire made no progress"
            time.sleep(0.01)
        process.send_signal(sig)
        return process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _answered_lines(log: Path, start: int) -> int:
    """How many questions the engine answered since `start` in the log file."""
    with log.open("rb") as file:
        file.seek(start)
        return file.read().decode("utf-8", "replace").count(" answered: backend=")


@pytest.mark.slow
@pytest.mark.reliability
def test_cli_killed_mid_questionnaire_resumes_without_asking_a_row_twice(
    cli, engine: Engine, data_dir: Path, tmp_path: Path, reliability: Recorder
) -> None:
    source, out = tmp_path / "q.csv", tmp_path / "answers.xlsx"
    questions = [question for _, question in QUESTIONS]
    _questionnaire(source, questions)
    journal, log = beside(out), data_dir / "procurebot.log"

    process = _start(data_dir, "questionnaire", str(source), str(out))
    _interrupt_after(process, journal, 3, signal.SIGKILL)
    assert process.returncode == -signal.SIGKILL
    assert not out.exists() and not out.with_suffix(".md").exists()
    killed = _journal_rows(journal)
    assert killed == list(range(1, len(killed) + 1)) and 3 <= len(killed) < TOTAL

    process = _start(data_dir, "questionnaire", str(source), str(out))
    stdout, stderr = _interrupt_after(process, journal, len(killed) + 2, signal.SIGINT)
    assert process.returncode == 130, stderr
    after_kill = stdout.decode().splitlines()[0]
    assert after_kill == (
        f"Resumed: rows 1–{len(killed)} of {TOTAL} were already answered; "
        f"answering {TOTAL - len(killed)} more."
    )
    interrupted = _journal_rows(journal)
    *warnings, message = stderr.decode().splitlines()  # a torn line left by the kill: a warning
    assert all(line.startswith("procurebot: warning: ") for line in warnings)
    assert message == (
        f"procurebot: interrupted. Rows 1–{len(interrupted)} of {TOTAL} are saved in {journal}; "
        "run the same command again to answer the rest."
    )

    start = log.stat().st_size
    result = cli("questionnaire", str(source), str(out))
    assert result.returncode == 0, result.stderr
    resumed, summary = result.stdout.decode().splitlines()
    assert resumed == (
        f"Resumed: rows 1–{len(interrupted)} of {TOTAL} were already answered; "
        f"answering {TOTAL - len(interrupted)} more."
    )
    assert summary.startswith(f"Answered {TOTAL} questions: ")
    assert _answered_lines(log, start) == TOTAL - len(interrupted)  # no row asked twice
    sheet = openpyxl.load_workbook(out).worksheets[0]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert [row[:2] for row in rows] == [[str(i), q] for i, q in enumerate(questions, 1)]
    assert all(row[2] for row in rows)  # every row answered, once, in the input's order
    assert out.with_suffix(".md").read_text(encoding="utf-8").count("\n## ") == TOTAL
    assert not journal.exists()
    reliability.record("fault", "server killed mid-questionnaire (CLI)", after_kill, lost="0")
    reliability.record("fault", "Ctrl-C mid-questionnaire (CLI)", message, lost="0")
