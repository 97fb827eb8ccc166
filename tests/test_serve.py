"""`procurebot serve` as a user runs it: killed outright, restarted, nothing lost."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from bot.engine import Engine

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PROCUREBOT_", "MISTRAL_"))
    }
    environment["PROCUREBOT_DATA_DIR"] = str(data_dir)
    with log.open("ab") as errors:  # the child keeps its own copy of the descriptor
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("procurebot")), "serve", "--port", str(port)],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(log.read_text(encoding="utf-8", errors="replace"))
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.5)
    server.kill()
    raise AssertionError("the server did not answer within 180 s")


def test_a_conversation_survives_the_server_being_killed(
    engine: Engine, data_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    server = start(data_dir, port, tmp_path / "serve.log")
    try:
        client = Client(url, verbose=False, download_files=str(tmp_path))
        _, citations, conversation = client.predict(
            "Which clouds offer Mistral Medium 3?", "", api_name="/ask"
        )
        client.predict("And for 3.1?", conversation, api_name="/ask")
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
    server = start(data_dir, port, tmp_path / "serve.log")
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
