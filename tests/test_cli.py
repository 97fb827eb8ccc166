"""The `procurebot` command as a user runs it: a real process over the session's index."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.answering.engine import Engine
from bot.settings import PROJECT_ROOT
from bot.workspace.access import LOCAL
from tests.conftest import run_cli

PRICE = "What does Mistral Medium 3 cost per million output tokens?"
FIFA = "Who won the 2022 FIFA World Cup?"
CITATION_KEYS = {"n", "source", "title", "kind", "date", "quote", "start", "end"}


def _assert_contract(data: dict) -> None:
    assert {"question", "answer", "backend", "model", "grounded", "citations"} <= set(data)
    for citation in data["citations"]:
        assert set(citation) >= CITATION_KEYS
        text = (PROJECT_ROOT / citation["source"]).read_bytes().decode("utf-8")
        assert text[citation["start"] : citation["end"]] == citation["quote"]
        assert f"[{citation['n']}]" in data["answer"]


def test_ask_json_price_is_grounded_with_a_cited_price(cli) -> None:
    result = cli("ask", "--json", PRICE)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    _assert_contract(data)
    assert data["grounded"] is True and data["backend"] == "extractive"
    assert any(
        c["source"] in {"corpus/002_f67bddd3a88b2c10.txt", "corpus/004_910b252cb6477a8d.txt"}
        and "$2" in c["quote"]
        for c in data["citations"]
    )


def test_ask_json_out_of_corpus_is_not_grounded(cli) -> None:
    result = cli("ask", FIFA, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["grounded"] is False and data["citations"] == []


def test_batch_mode_answers_each_line_in_one_process(cli) -> None:
    questions = f"{PRICE}\n\n{FIFA}\r\nKann man Mistral Medium 3 selbst hosten?\n"
    result = cli("ask", "--json", stdin=questions.encode())
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [d["question"] for d in lines] == [
        PRICE,
        FIFA,
        "Kann man Mistral Medium 3 selbst hosten?",
    ]
    assert [d["grounded"] for d in lines] == [True, False, True]
    for data in lines:
        _assert_contract(data)


@pytest.mark.reliability
def test_batch_mode_reports_bad_lines_in_place_and_fails(cli, reliability) -> None:
    result = cli("ask", "--json", stdin=b"\x00\x01\n\xff\xfe not utf-8\n" + PRICE.encode())
    assert result.returncode == 1
    first, second, third = (json.loads(line) for line in result.stdout.decode().splitlines())
    assert first["line"] == 1 and "empty" in first["error"]
    assert second["line"] == 2 and "UTF-8" in second["error"]
    assert third["grounded"] is True
    assert b"Traceback" not in result.stderr
    reliability.record(
        "bad input",
        "question lines of NUL/control bytes and invalid UTF-8 (procurebot ask, stdin)",
        f"each line answered in place: {second['error']!r}; the good line answered; exit 1",
    )


@pytest.mark.parametrize("question", ["", "   ", "\t\n", "\x01\x02\x03"])
def test_an_empty_question_is_a_one_line_error(cli, question: str) -> None:
    result = cli("ask", "--json", question)
    assert result.returncode == 2
    assert result.stdout == b""
    stderr = result.stderr.decode().strip()
    assert (
        stderr == "procurebot: error: The question is empty: type a question about the documents."
    )


def test_control_characters_are_stripped_from_the_question(cli) -> None:
    # (an argument cannot hold NUL; NUL arrives through stdin, see the batch test)
    result = cli("ask", "--json", "Is mistral-medium-2312\x07 still\x1b available?\u202e")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["question"] == "Is mistral-medium-2312 still available?"
    assert any("removed" in notice for notice in data["notices"])


def test_an_over_long_question_is_cut_with_a_notice(cli) -> None:
    question = "Which clouds offer Mistral Medium 3.1? " + "Please answer precisely. " * 400
    result = cli("ask", "--json", question)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["question"]) <= 2000
    assert "limit is 2,000" in data["notices"][0]
    assert "limit is 2,000" in result.stderr.decode()


def test_readable_output_lists_numbered_sources(cli) -> None:
    result = cli("ask", PRICE)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "[1]" in out and "\nSources:\n[1] " in out and "corpus/" in out


def test_index_twice_embeds_nothing_the_second_time(cli) -> None:
    result = cli("index")
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "unchanged   5" in out
    assert "; 0 embedded in this run." in out
    for label in ("added", "updated", "removed", "skipped"):
        assert f"{label:<10}  0  -" in out


@pytest.mark.slow  # subprocesses or many index runs: not in make test-fast
def test_first_use_builds_the_index_then_a_rebuild_embeds_all(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "offer.txt").write_text(
        "The vendor offers Mistral Medium 3 at $0.4 per million input tokens.", encoding="utf-8"
    )
    env = {"PROCUREBOT_CORPUS_DIR": str(corpus)}
    asked = run_cli("ask", "--json", "What is the input price?", data_dir=tmp_path / "d", env=env)
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["citations"][0]["source"] == "corpus/offer.txt"
    rebuilt = run_cli("index", "--rebuild", data_dir=tmp_path / "d", env=env)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "added       1  corpus/offer.txt" in rebuilt.stdout.decode()


def test_an_empty_corpus_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    result = run_cli(
        "ask",
        "anything?",
        data_dir=tmp_path / "d",
        env={"PROCUREBOT_CORPUS_DIR": str(tmp_path / "corpus")},
    )
    assert result.returncode == 1
    assert "no readable document" in result.stderr.decode()
    assert b"Traceback" not in result.stderr


def test_a_bad_setting_is_a_one_line_error(tmp_path: Path) -> None:
    result = run_cli("ask", "x?", data_dir=tmp_path, env={"PROCUREBOT_TOP_K": "many"})
    assert result.returncode == 2
    assert result.stderr.decode().startswith("procurebot: error: invalid setting: PROCUREBOT_TOP_K")


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run_cli("--help", data_dir=tmp_path)
    assert result.returncode == 0
    for command in ("index", "ask", "serve"):
        assert command in result.stdout.decode()


def test_saved_conversations_are_listed_and_exported_from_the_command_line(
    engine: Engine, tmp_path: Path
) -> None:
    from bot.transcripts.store import TranscriptStore
    from bot.workspace.service import Workspace

    workspace = Workspace(engine, TranscriptStore(tmp_path / "transcripts.sqlite"))
    exchange = workspace.ask(LOCAL, "What does Mistral Medium 3 cost per million output tokens?")
    listed = run_cli("conversations", data_dir=tmp_path)
    assert listed.returncode == 0 and exchange.conversation_id in listed.stdout.decode()
    for fmt in ("md", "json", "docx"):
        done = run_cli(
            "export",
            exchange.conversation_id,
            "--format",
            fmt,
            "--out",
            str(tmp_path / "out"),
            data_dir=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        assert (
            tmp_path / "out" / f"procurebot-conversation-{exchange.conversation_id[:8]}.{fmt}"
        ).exists()
    unknown = run_cli("export", "nope", data_dir=tmp_path)
    assert unknown.returncode == 1
    assert unknown.stderr.decode().strip() == "procurebot: error: There is no conversation 'nope'."
    wrong = run_cli("export", exchange.conversation_id, "--format", "exe", data_dir=tmp_path)
    assert wrong.returncode != 0 and b"md, json" in wrong.stderr


def test_a_users_file_entry_is_made_with_a_hashed_password(tmp_path: Path) -> None:
    from bot.workspace.access import Directory

    made = run_cli(
        "user", "rita", "--role", "reviewer", data_dir=tmp_path, stdin=b"s3cret-pw\ns3cret-pw\n"
    )
    assert made.returncode == 0, made.stderr
    assert b"s3cret-pw" not in made.stdout
    users = tmp_path / "users.toml"
    users.write_bytes(made.stdout)
    assert Directory.load(users).authenticate("rita", "s3cret-pw")
    short = run_cli("user", "rita", data_dir=tmp_path, stdin=b"short\nshort\n")
    assert short.returncode == 2 and b"at least 8" in short.stderr
    assert run_cli("user", "../x", data_dir=tmp_path, stdin=b"").returncode == 2


def test_the_transcript_schema_describes_every_field(tmp_path: Path) -> None:
    printed = run_cli("transcript-schema", data_dir=tmp_path)
    schema = json.loads(printed.stdout)
    for definition in schema["$defs"].values():
        for name, field in definition["properties"].items():
            assert field.get("description"), name


def test_calibrate_prints_the_gates_measured_from_the_probes(cli) -> None:
    from bot.answering.calibration import PROBES

    result = cli("calibrate")
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    gates = re.findall(r"^  (domain|passage|unit)\s+([-+]\d\.\d{4})", out, flags=re.MULTILINE)
    assert [name for name, _ in gates] == ["domain", "passage", "unit"]
    row = r"^  (?:-?\d\.\d{4} ){3}· ([-+]\d\.\d{4}) ([-+]\d\.\d{4}) [-+]\d\.\d{4} · (.+)$"
    probes = re.findall(row, out, flags=re.MULTILINE)
    assert len(probes) == len(PROBES) and "Who won the 2022 FIFA World Cup final?" in {
        question for *_, question in probes
    }
    assert float(dict(gates)["domain"]) >= max(float(domain) for domain, _, _ in probes)
    assert float(dict(gates)["passage"]) >= max(float(passage) for _, passage, _ in probes)
