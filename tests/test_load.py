"""The load test in its short form: a real server with login, several people at once.

The full run (20 people × 10 questions) is `make load` (or `python -m tests.load`)."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import pytest

from bot.answering.engine import Engine
from tests import load
from tests.reliability import Recorder
from tests.servers import free_port, start_serve

pytestmark = [pytest.mark.reliability, pytest.mark.slow]


def test_people_asking_at_once_each_get_their_own_answers(
    engine: Engine, data_dir: Path, tmp_path: Path, reliability: Recorder
) -> None:
    users, questions = 4, 3
    data = tmp_path / "data"
    shutil.copytree(data_dir / "chroma", data / "chroma")
    people = load.users_file(tmp_path / "users.toml", users, load.PASSWORD)
    port = free_port()
    server = start_serve(data, port, tmp_path / "serve.log", {"PROCUREBOT_USERS_FILE": str(people)})
    try:
        summary = load.run(f"http://127.0.0.1:{port}/", users, questions)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert summary.errors == 0, summary.first_errors
    assert summary.cross_user == 0, summary.first_errors
    assert summary.answered == users * questions
    reliability.record(
        "load",
        f"{users} people × {questions} questions at once, with login (short form)",
        f"{summary.answered}/{summary.asked} answered, 0 errors, 0 cross-user; p50 "
        f"{summary.p50_ms:.0f} ms, p95 {summary.p95_ms:.0f} ms, max {summary.max_ms:.0f} ms",
    )
