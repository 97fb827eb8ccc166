"""procurebot against a real Chroma server (`chroma run`): every command keeps its index there.

One server holds the shipped corpus, indexed once by `procurebot index` (the one full build
here, about 20 s of embedding); the commands and the web app of other data folders then use
that index as it is. Small servers, started per test, hold the cases that change or stop them.
"""

from __future__ import annotations

import http.server
import json
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client

from index import chroma as index_chroma
from index.chunking import Chunk
from index.documents import scan_corpus
from index.errors import EmbeddingModelMismatch, StoreError, StoreUnreachable
from index.location import ChromaServer
from index.store import ChunkStore
from tests.conftest import CORPUS, run_cli
from tests.servers import free_port, start_chroma, start_serve, stop

pytestmark = pytest.mark.slow

QUESTION = "What does Mistral Medium 3 cost per million output tokens?"
MINILM = "all-MiniLM-L6-v2-onnx-int8"
BETA = "How many GPUs does Beta run on?"  # answered by the small corpus


def server_env(server: ChromaServer) -> dict[str, str]:
    return {"CHROMA_HOST": server.host, "CHROMA_PORT": str(server.port)}


def report_counts(stdout: str) -> dict[str, int]:
    """The counts of `procurebot index`'s report: {"added": 3, "unchanged": 0, ...}."""
    return {
        label: int(count)
        for label, count in re.findall(r"^  (\w+)\s+(\d+)  ", stdout, flags=re.MULTILINE)
    }


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """A Chroma server for the module, stopped at its end."""
    folder = tmp_path_factory.mktemp("chroma")
    port = free_port()
    server = start_chroma(folder / "data", port, folder / "chroma.log")
    try:
        yield ChromaServer("127.0.0.1", port)
    finally:
        stop(server)


@pytest.fixture(scope="module")
def indexed(chroma: ChromaServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The shipped corpus indexed into the server by `procurebot index`: its data folder and
    what it printed."""
    data = tmp_path_factory.mktemp("first") / "data"
    done = run_cli("index", data_dir=data, env=server_env(chroma))
    assert done.returncode == 0, done.stderr.decode()
    return data, done.stdout.decode()


@pytest.fixture
def small_server(tmp_path: Path) -> Iterator[tuple[ChromaServer, subprocess.Popen[bytes]]]:
    """A Chroma server of the test's own, which the test may stop."""
    port = free_port()
    server = start_chroma(tmp_path / "chroma-data", port, tmp_path / "chroma.log")
    try:
        yield ChromaServer("127.0.0.1", port), server
    finally:
        stop(server)


def test_index_and_ask_keep_the_index_on_the_server(
    chroma: ChromaServer, indexed: tuple[Path, str]
) -> None:
    data, report = indexed
    assert f"chunks in the index on the Chroma server at {chroma.url};" in report
    counts = report_counts(report)
    assert counts["added"] == len(scan_corpus(CORPUS).documents) and counts["unchanged"] == 0

    done = run_cli("ask", QUESTION, data_dir=data, env=server_env(chroma))
    assert done.returncode == 0, done.stderr.decode()
    answer = done.stdout.decode()
    assert "$2" in answer and "Sources:" in answer and "corpus/" in answer
    assert not (data / "chroma").exists(), "no local store"
    assert index_chroma.client(chroma).get_collection(index_chroma.COLLECTION).count() > 0


def test_chroma_url_names_the_same_server(
    chroma: ChromaServer, indexed: tuple[Path, str], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    done = run_cli("ask", "--json", QUESTION, data_dir=data, env={"CHROMA_URL": chroma.url})
    assert done.returncode == 0, done.stderr.decode()
    answer = json.loads(done.stdout)
    assert answer["grounded"] is True
    assert any("$2" in citation["quote"] for citation in answer["citations"])
    assert not (data / "chroma").exists()


def test_the_web_app_of_another_data_folder_answers_from_the_same_index(
    chroma: ChromaServer, indexed: tuple[Path, str], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    port = free_port()
    server = start_serve(data, port, tmp_path / "serve.log", server_env(chroma))
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=str(tmp_path))
        markdown, citations, _ = client.predict(QUESTION, "", api_name="/ask")
    finally:
        stop(server)
    assert "[1]" in markdown
    assert any("$2" in citation["quote"] for citation in citations)
    assert not (data / "chroma").exists()
    said = (tmp_path / "serve.log").read_text(encoding="utf-8")
    assert f"(index on the Chroma server at {chroma.url})" in said

    done = run_cli("index", data_dir=data, env=server_env(chroma))  # nothing to embed again
    assert done.returncode == 0, done.stderr.decode()
    counts = report_counts(done.stdout.decode())
    assert counts["unchanged"] == report_counts(indexed[1])["added"]
    assert counts["added"] == counts["updated"] == counts["removed"] == 0
    assert " 0 embedded in this run." in done.stdout.decode()


def test_rebuild_and_a_model_mismatch_on_a_server(
    small_server: tuple[ChromaServer, subprocess.Popen[bytes]], small_corpus: Path, tmp_path: Path
) -> None:
    server, _ = small_server
    env = {**server_env(server), "PROCUREBOT_CORPUS_DIR": str(small_corpus)}
    data = tmp_path / "data"
    first = run_cli("index", data_dir=data, env={**env, "PROCUREBOT_EMBEDDING_MODEL": MINILM})
    assert first.returncode == 0, first.stderr.decode()
    assert report_counts(first.stdout.decode())["added"] == 3

    mismatch = run_cli("ask", BETA, data_dir=data, env=env)  # the default model
    assert mismatch.returncode == 1
    [line] = mismatch.stderr.decode().strip().splitlines()
    assert f"built with the embedding model {MINILM!r}" in line and "index --rebuild" in line

    rebuilt = run_cli("index", "--rebuild", data_dir=data, env=env)
    assert rebuilt.returncode == 0, rebuilt.stderr.decode()
    assert "aside" not in rebuilt.stderr.decode(), "nothing to move aside on a server"
    assert report_counts(rebuilt.stdout.decode())["added"] == 3
    answered = run_cli("ask", BETA, data_dir=data, env=env)
    assert answered.returncode == 0, answered.stderr.decode()
    assert "Beta runs on-prem on two GPUs." in answered.stdout.decode()
    assert not (data / "chroma").exists()


def test_ask_without_a_server_is_a_one_line_error_naming_it(tmp_path: Path) -> None:
    nowhere = ChromaServer("127.0.0.1", free_port())  # nothing listens there
    done = run_cli("ask", QUESTION, data_dir=tmp_path / "data", env=server_env(nowhere))
    assert done.returncode == 1
    [line] = done.stderr.decode().strip().splitlines()
    assert line.startswith(f"procurebot: error: The Chroma server at {nowhere.url} ")
    assert "cannot be reached" in line and "chroma run" in line
    assert "CHROMA_HOST" in line and "CHROMA_URL" in line
    assert not (tmp_path / "data" / "chroma").exists()


def _chunk(n: int) -> Chunk:
    return Chunk(
        id=f"doc:{n}",
        source="corpus/doc.md",
        index=n,
        start=0,
        end=4,
        text="text",
        heading="",
        title="Doc",
        kind="other",
        date=None,
        language="en",
        sha256="0" * 64,
        n_chunks=2,
    )


def test_a_server_stopped_while_open_is_reported_by_address(
    small_server: tuple[ChromaServer, subprocess.Popen[bytes]],
) -> None:
    server, process = small_server
    store = ChunkStore.open(server, "model-a", 3)
    store.add([_chunk(0)], [[1.0, 0.0, 0.0]])
    assert store.count() == 1
    stop(process)
    with pytest.raises(StoreUnreachable, match=re.escape(f"server at {server.url} cannot be")):
        store.count()
    with pytest.raises(StoreUnreachable, match="chroma run"):
        ChunkStore.open(server, "model-a", 3)


def test_rebuild_on_a_server_recreates_the_collections(
    small_server: tuple[ChromaServer, subprocess.Popen[bytes]],
) -> None:
    server, _ = small_server
    store = ChunkStore.open(server, "model-a", 3)
    store.add([_chunk(0), _chunk(1)], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert ChunkStore.open(server, "model-a", 3).count() == 2, "kept between openings"
    with pytest.raises(EmbeddingModelMismatch, match="index --rebuild"):
        ChunkStore.open(server, "model-b", 4)
    rebuilt = ChunkStore.open(server, "model-b", 4, rebuild=True)
    assert rebuilt.count() == 0 and rebuilt.moved_aside is None
    rebuilt.add([_chunk(0)], [[1.0, 0.0, 0.0, 0.0]])
    assert [c.id for c, _ in rebuilt.search([1.0, 0.0, 0.0, 0.0], 5)] == ["doc:0"]
    with pytest.raises(StoreError, match="removed or rebuilt by another program"):
        store.count()  # the first store's collections are gone


def test_https_to_a_plain_server_is_unreachable_with_the_reason(
    small_server: tuple[ChromaServer, subprocess.Popen[bytes]],
) -> None:
    server, _ = small_server
    with pytest.raises(StoreUnreachable, match=rf"https://127\.0\.0\.1:{server.port} .*SSL"):
        ChunkStore.open(ChromaServer(server.host, server.port, ssl=True), "model-a", 3)


class NotChroma(http.server.BaseHTTPRequestHandler):
    """Another web server at the address: an HTML page saying 404 to everything."""

    def do_GET(self) -> None:
        self.send_error(404, "Not Found")

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_another_kind_of_server_is_named_as_not_chroma() -> None:
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotChroma)
    thread = threading.Thread(target=web.serve_forever, daemon=True)
    thread.start()
    try:
        other = ChromaServer("127.0.0.1", web.server_address[1])
        with pytest.raises(StoreError, match=r"does not answer as a Chroma server \(HTTP 404"):
            ChunkStore.open(other, "model-a", 3)
    finally:
        web.shutdown()
        web.server_close()
        thread.join()
