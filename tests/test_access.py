"""People, roles and password hashes from the users file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bot.workspace import access
from bot.workspace.access import (
    LOCAL,
    AccessError,
    Directory,
    NotAllowed,
    check_password,
    hash_password,
)


def test_a_password_checks_against_its_hash_only() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("pbkdf2_sha256$600000$")
    assert check_password("correct horse", stored)
    assert not check_password("correct horse ", stored)
    assert not check_password("correct horse", "pbkdf2_sha256$1$bad")
    assert not check_password("x", "plain-text")
    assert hash_password("same") != hash_password("same")  # salted


def write_users(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "users.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_users_file_gives_people_and_roles(tmp_path: Path) -> None:
    path = write_users(
        tmp_path,
        f'[users.alice]\nrole = "user"\npassword = "{hash_password("a-pass")}"\n'
        f'[users.rita]\nrole = "reviewer"\npassword = "{hash_password("r-pass")}"\n',
    )
    directory = Directory.load(path)
    assert directory.authenticate("alice", "a-pass")
    assert not directory.authenticate("alice", "r-pass")
    assert not directory.authenticate("mallory", "a-pass")
    alice, rita = directory.user("alice"), directory.user("rita")
    assert (alice.sees_everyone, alice.reviews, alice.manages_documents) == (False, False, False)
    assert (rita.sees_everyone, rita.reviews, rita.manages_documents) == (True, True, False)
    assert LOCAL.manages_documents and LOCAL.sees_everyone
    with pytest.raises(NotAllowed):
        directory.user("mallory")


def test_an_unknown_name_costs_the_same_key_derivation_as_a_known_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted, not timed: each login derives one key with the same number of iterations,
    so its duration does not tell whether the name has an account."""
    entry = f'[users.alice]\nrole = "user"\npassword = "{hash_password("a")}"\n'
    directory = Directory.load(write_users(tmp_path, entry))
    derived: list[int] = []
    real = hashlib.pbkdf2_hmac

    def counting(name: str, password: bytes, salt: bytes, iterations: int) -> bytes:
        derived.append(iterations)
        return real(name, password, salt, iterations)

    monkeypatch.setattr(access.hashlib, "pbkdf2_hmac", counting)
    for name in ("alice", "mallory", "alice", "nobody-at-all"):
        derived.clear()
        assert not directory.authenticate(name, "wrong password")
        assert derived == [access.ITERATIONS], name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not toml [", "cannot be read"),
        ("", "no \\[users.<name>\\] entry"),
        ('[users.bob]\nrole = "boss"\npassword = "pbkdf2_sha256$1$a$b"\n', "role must be one of"),
        ('[users.bob]\nrole = "user"\npassword = "hunter2"\n', "plain passwords are not"),
    ],
)
def test_a_wrong_users_file_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(AccessError, match=message):
        Directory.load(write_users(tmp_path, text))


def test_a_missing_users_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AccessError, match="cannot be read"):
        Directory.load(tmp_path / "absent.toml")
