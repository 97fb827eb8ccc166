"""Shared fixtures: the real corpus indexed once per session with the real model and Chroma,
and a real PostgreSQL server for the transcript tests."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from bot.answering.engine import Engine
from bot.settings import PROJECT_ROOT, Settings
from index.documents import Document
from tests.reliability import Recorder
from tests.servers import DEVELOPER_SETTINGS, free_port, procurebot_environment

CORPUS = PROJECT_ROOT / "corpus"


def make_document(text: str, source: str = "corpus/x.md") -> Document:
    """An uncatalogued document with the given text, as the loader would make it."""
    return Document(
        source=source,
        title="X",
        kind="other",
        date=None,
        date_basis="",
        language="en",
        sha256="0" * 64,
        text=text,
        catalogued=False,
        extracted=False,
    )


def engine_over(root: Path, files: dict[str, str], **settings: object) -> Engine:
    """An offline engine over a corpus of the given files (name -> text) under `root`."""
    corpus = root / "docs"
    corpus.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    options = {"backend": "extractive", **settings}
    return Engine.open(Settings(data_dir=root / "data", corpus_dir=corpus, **options))  # type: ignore[arg-type]


@pytest.fixture(scope="session", autouse=True)
def _isolated_session() -> Iterator[None]:
    """Session fixtures (the shared index) do not read the developer's settings either."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name in list(os.environ):
            if name.startswith(DEVELOPER_SETTINGS):
                monkeypatch.delenv(name)
        yield


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's settings, key or Chroma server."""
    for name in list(os.environ):
        if name.startswith(DEVELOPER_SETTINGS):
            monkeypatch.delenv(name)
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, corpus_dir=CORPUS)


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Engine:
    """The shipped corpus, indexed on first use exactly as `procurebot ask` does."""
    return Engine.open(settings)


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    """A corpus folder of three short documents that a test may change."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "alpha.md").write_text(
        "# Alpha pricing\n\nAlpha costs $3 per million input tokens.\n", encoding="utf-8"
    )
    (corpus / "beta.txt").write_text(
        "Beta runs on-prem on two GPUs.\nIt was released on March 3, 2025.\n", encoding="utf-8"
    )
    shutil.copy(CORPUS / "004_910b252cb6477a8d.txt", corpus / "vendor.txt")
    return corpus


def run_cli(
    *args: str,
    data_dir: Path,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[bytes]:
    """Run the installed `procurebot` console script as a user would."""
    executable = Path(sys.executable).with_name("procurebot")
    return subprocess.run(
        [str(executable), *args],
        input=stdin,
        capture_output=True,
        env=procurebot_environment(data_dir, env),
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def cli(engine: Engine, data_dir: Path) -> Iterator[object]:
    """`procurebot` against the session's index (already built by the engine fixture)."""

    def call(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None):
        return run_cli(*args, data_dir=data_dir, stdin=stdin, env=env)

    yield call


# Fixtures that cost a minute or more: the shipped corpus indexed, a database server. A test
# that uses one (directly or through another fixture) is marked slow, so that
# `make test-fast` (pytest -m "not slow") runs the unit tests alone.
HEAVY_FIXTURES = frozenset({"engine", "cli", "server"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HEAVY_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Keep each phase's report on the test, for the `reliability` fixture to read."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def reliability(request: pytest.FixtureRequest) -> Iterator[Recorder]:
    """Rows for the reliability report (tests/reliability.py), written when the test ends."""
    recorder = Recorder(request.node.name)
    yield recorder
    report = getattr(request.node, "report_call", None)
    recorder.flush(passed=report is not None and report.passed)


HOSTILE = {
    "zephyr.md": (
        "# Zephyr hosting terms\n\n"
        'Zephyr data is hosted in Frankfurt <img src=x onerror="window.__pwned=1"> Germany.\n\n'
        "Zephyr support answers <script>window.__pwned=2</script> within four hours.\n\n"
        "Zephyr costs [five dollars](javascript:window.__pwned=3) per seat and month.\n"
    ),
    "zephyr-notes.html": (
        "<html><head><title>Zephyr notes</title><script>window.__pwned=4</script></head><body>"
        "<h1>Zephyr notes</h1><p>Zephyr keeps backups in Paris &lt;b&gt;for 30 days&lt;/b&gt;"
        " <iframe src='javascript:1'></iframe>.</p></body></html>\n"
    ),
}


def hostile_corpus(folder: Path) -> Path:
    """A corpus whose documents carry HTML and JavaScript, as text to be quoted, never run."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in HOSTILE.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


# CI sets this, so that a machine without the server fails instead of skipping the tests (read
# at import: the tests themselves run without the PROCUREBOT_ variables).
REQUIRE = "PROCUREBOT_TEST_REQUIRE_POSTGRES"
REQUIRED = bool(os.environ.get(REQUIRE))


def server_programs() -> Path | None:
    """The folder of initdb and pg_ctl: Debian's newest, or the ones on PATH."""
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3])
    )
    if debian:
        return debian[-1].parent
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and shutil.which("initdb") else None


@dataclass(frozen=True)
class Server:
    port: int
    password: str

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        secret = self.password if password is None else password
        return f"postgresql+psycopg://procurebot:{secret}@127.0.0.1:{self.port}/{database}"


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """Debian's PostgreSQL server (`make postgres` installs it) for the session, on 127.0.0.1
    and a free port, with a password, in a temporary folder. Without the server programs the
    tests that use it are skipped, unless PROCUREBOT_TEST_REQUIRE_POSTGRES is set (CI): then
    they fail."""
    programs = server_programs()
    if programs is None:
        message = "PostgreSQL's server programs are not installed (`make postgres` installs them)"
        if REQUIRED:
            pytest.fail(f"{message}, and {REQUIRE} is set")
        pytest.skip(message)
    # The server refuses to run as root: as root, it runs as the `postgres` user.
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="procurebot-postgres-"))
    password = secrets.token_hex(12)
    (folder / "password").write_text(password + "\n", encoding="utf-8")
    if as_user:
        shutil.chown(folder, "postgres")
        shutil.chown(folder / "password", "postgres")
    data, log, port = folder / "data", folder / "server.log", free_port()

    def run(program: str, *args: str) -> None:
        done = subprocess.run(
            [*as_user, str(programs / program), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            logged = log.read_text(encoding="utf-8") if log.exists() else ""
            pytest.fail(f"{program} failed:\n{done.stdout}{done.stderr}{logged}")

    run(
        "initdb", "--pgdata", str(data), "--username", "procurebot", "--pwfile",
        str(folder / "password"), "--auth", "scram-sha-256", "--encoding", "UTF8",
        "--locale", "C.UTF-8", "--no-sync",
    )  # fmt: skip
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='' "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    run("pg_ctl", "start", "--pgdata", str(data), "--log", str(log), "--wait", "-o", options)
    try:
        yield Server(port, password)
    finally:
        run("pg_ctl", "stop", "--pgdata", str(data), "--mode", "immediate", "--wait")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def url(server: Server) -> str:
    """A new, empty database on the server."""
    name = f"transcripts_{secrets.token_hex(6)}"
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return server.url(name)


def text_pdf(*pages: str, modified: str = "") -> bytes:
    """A minimal PDF with one page per string, each showing it in Helvetica (an empty string
    gives a page without text), with a correct cross-reference table; `modified` is a PDF date
    ("D:20260301120000Z") for its ModDate property."""
    n = len(pages)
    font = 3 + 2 * n
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(n)), n),
    ]
    for i, line in enumerate(pages):
        stream = f"BT /F1 12 Tf 72 720 Td ({line}) Tj ET".encode() if line else b""
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (font, 4 + 2 * i)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    if modified:
        objects.append(b"<< /ModDate (%s) >>" % modified.encode())
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    info = b" /Info %d 0 R" % len(objects) if modified else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        info,
        xref,
    )
    return bytes(out)
