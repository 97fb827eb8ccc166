"""Where the index lives, as the settings say: data_dir/chroma, or a Chroma server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from index.location import ChromaFolder, ChromaServer, parse_server_url
from tests.conftest import run_cli


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("http://127.0.0.1:8000", ChromaServer("127.0.0.1", 8000)),
        ("http://chroma.internal:8000/", ChromaServer("chroma.internal", 8000)),
        ("https://chroma.example.org", ChromaServer("chroma.example.org", 443, ssl=True)),
        ("http://chroma.internal", ChromaServer("chroma.internal", 80)),
        ("HTTPS://Chroma.Example.org:9443", ChromaServer("chroma.example.org", 9443, ssl=True)),
        ("http://[::1]:8000", ChromaServer("::1", 8000)),
    ],
)
def test_a_server_url_is_host_port_and_tls(url: str, server: ChromaServer) -> None:
    assert parse_server_url(url) == server
    assert parse_server_url(server.url) == server


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("chroma.internal:8000", "expected http://host[:port]"),
        ("ftp://chroma.internal", "expected http://host[:port]"),
        ("http://", "expected http://host[:port]"),
        ("http://chroma.internal:8000/api/v2", "without a path or query"),
        ("http://chroma.internal:8000?tenant=x", "without a path or query"),
        ("http://user:secret@chroma.internal:8000", "without a user name or password"),
        ("http://chroma.internal:99999", "Port out of range"),
        ("http://chroma.internal:0", "a port from 1 to 65535"),
    ],
)
def test_anything_else_is_refused_with_what_is_wrong(url: str, said: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_server_url(url)
    assert said in str(raised.value) and repr(url) in str(raised.value)


@pytest.mark.parametrize(
    ("env", "where"),
    [
        ({}, "at {data}/chroma"),
        ({"CHROMA_HOST": "chroma.internal"}, "on the Chroma server at http://chroma.internal:8000"),
        (
            {"CHROMA_HOST": "10.0.0.5", "CHROMA_PORT": "8001"},
            "on the Chroma server at http://10.0.0.5:8001",
        ),
        (
            {"PROCUREBOT_CHROMA_HOST": "db", "PROCUREBOT_CHROMA_PORT": "9"},
            "on the Chroma server at http://db:9",
        ),
        (
            {"CHROMA_URL": "https://chroma.example.org"},
            "on the Chroma server at https://chroma.example.org:443",
        ),
        ({"PROCUREBOT_CHROMA_URL": "http://db:7"}, "on the Chroma server at http://db:7"),
        ({"CHROMA_HOST": " ", "CHROMA_URL": ""}, "at {data}/chroma"),
    ],
)
def test_settings_say_where_the_index_lives(
    env: dict[str, str], where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    location = Settings(data_dir=tmp_path).store_location
    assert location.where == where.format(data=tmp_path)
    assert isinstance(location, ChromaFolder) == (where.startswith("at "))


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"CHROMA_URL": "chroma:8000"}, "expected http://host[:port]"),
        ({"CHROMA_HOST": "http://chroma:8000"}, "a host name or address, not a URL"),
        ({"CHROMA_HOST": "chroma:8000"}, "the port goes in CHROMA_PORT"),
        ({"CHROMA_HOST": "chroma", "CHROMA_PORT": "http"}, "valid integer"),
        ({"CHROMA_HOST": "chroma", "CHROMA_PORT": "70000"}, "less than or equal to 65535"),
        ({"CHROMA_PORT": "8000"}, "CHROMA_PORT is set without CHROMA_HOST"),
        ({"CHROMA_URL": "http://a:1", "CHROMA_HOST": "b"}, "are both set"),
        ({"CHROMA_URL": "http://a:1", "CHROMA_PORT": "1"}, "are both set"),
    ],
)
def test_a_wrong_chroma_setting_is_refused(
    env: dict[str, str], said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=re.escape(said)):
        Settings()


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"CHROMA_URL": "chroma:8000"},
            "procurebot: error: invalid setting: CHROMA_URL: expected http://host[:port] or "
            "https://host[:port], such as http://127.0.0.1:8000; got 'chroma:8000'",
        ),
        (
            {"CHROMA_URL": "http://a:1", "CHROMA_HOST": "b"},
            "procurebot: error: invalid setting: CHROMA_URL and CHROMA_HOST/CHROMA_PORT are both "
            "set: set one or the other",
        ),
    ],
)
def test_the_command_says_it_in_one_line(env: dict[str, str], line: str, tmp_path: Path) -> None:
    done = run_cli("ask", "x?", data_dir=tmp_path, env=env)
    assert done.returncode == 2
    assert done.stderr.decode().strip().splitlines() == [line]
    assert not (tmp_path / "chroma").exists()
