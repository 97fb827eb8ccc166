"""`procurebot serve` as a user runs it: killed outright, restarted, nothing lost."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from gradio_client import Client

from bot.answering.engine import Engine
from tests.servers import free_port, start_serve

pytestmark = pytest.mark.slow


def test_a_conversation_survives_the_server_being_killed(
    engine: Engine, data_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    server = start_serve(data_dir, port, tmp_path / "serve.log")
    try:
        client = Client(url, verbose=False, download_files=str(tmp_path))
        _, citations, conversation = client.predict(
            "Which clouds offer Mistral Medium 3?", "", api_name="/ask"
        )
        client.predict("And for 3.1?", conversation, api_name="/ask")
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
    server = start_serve(data_dir, port, tmp_path / "serve.log")
    try:
        client = Client(url, verbose=False, download_files=str(tmp_path))
        exported = Path(client.predict(conversation, "json", api_name="/export"))
        turns = json.loads(exported.read_text(encoding="utf-8"))["turns"]
        assert [t["question"] for t in turns] == [
            "Which clouds offer Mistral Medium 3?",
            "And for 3.1?",
        ]
        assert [c["quote"] for c in turns[0]["citations"]] == [c["quote"] for c in citations]
        markdown, _, same = client.predict("And what does it cost?", conversation, api_name="/ask")
        assert same == conversation
        read_as = next(line for line in markdown.splitlines() if line.startswith("_Read as:"))
        assert "Mistral Medium" in read_as  # the follow-up was read with the saved history
    finally:
        server.terminate()
        server.wait(timeout=30)
