"""Starting the real `procurebot serve`, and a real Chroma server (`chroma run`), for tests and
the load script: 127.0.0.1, a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from gradio_client import Client

    from bot.workspace.service import Workspace


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Environment variables of a developer's own setup, which no test may inherit.
DEVELOPER_SETTINGS = ("PROCUREBOT_", "MISTRAL_", "CHROMA_")


def procurebot_environment(data_dir: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without the developer's settings, key or Chroma server,
    plus `env`."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(DEVELOPER_SETTINGS)
    }
    environment["PROCUREBOT_DATA_DIR"] = str(data_dir)
    environment.update(env or {})
    return environment


def start_serve(
    data_dir: Path,
    port: int,
    log: Path,
    env: dict[str, str] | None = None,
    *args: str,
    wait: float = 180,
) -> subprocess.Popen[bytes]:
    """`procurebot serve --port PORT` in a subprocess, once it answers HTTP."""
    with log.open("ab") as errors:  # the child keeps its own copy of the descriptor
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("procurebot")),
                "serve",
                "--port",
                str(port),
                *args,
            ],
            env=procurebot_environment(data_dir, env),
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(log.read_text(encoding="utf-8", errors="replace"))
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.5)
    server.kill()
    raise AssertionError(f"the server did not answer within {wait:.0f} s")


def start_chroma(path: Path, port: int, log: Path, wait: float = 60) -> subprocess.Popen[bytes]:
    """A real Chroma server, `chroma run`, on 127.0.0.1:PORT keeping its data in `path`, once
    it answers its heartbeat. It sends no telemetry (the Rust server has none, and OpenTelemetry
    export only with an `open_telemetry:` block in a config file), so there is nothing to turn
    off; the developer's CHROMA_* variables are left out all the same."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(DEVELOPER_SETTINGS)}
    with log.open("ab") as output:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("chroma")),
                *("run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)),
            ],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(log.read_text(encoding="utf-8", errors="replace"))
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2).is_success:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    stop(server)
    raise AssertionError(f"the Chroma server did not answer within {wait:.0f} s")


def stop(server: subprocess.Popen[bytes]) -> None:
    """End a server started here: asked first, killed if it does not stop."""
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=30)


@contextmanager
def app_client(workspace: Workspace, downloads: Path) -> Iterator[Client]:
    """The web app launched in this process over `workspace`, and a client of its API."""
    from gradio_client import Client

    from ui.app import launch

    port = free_port()
    app = launch(workspace, "127.0.0.1", port, block=False)
    try:
        yield Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=str(downloads))
    finally:
        app.close()
