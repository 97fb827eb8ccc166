"""Who may do what: people, their roles, and their password hashes from a users file.

Login is off unless `PROCUREBOT_USERS_FILE` names a file like this one:

    [users.alice]
    role = "user"          # asks questions, sees her own conversations
    password = "pbkdf2_sha256$600000$…$…"   # made by `procurebot user alice`

    [users.rita]
    role = "reviewer"      # sees and reviews everyone's conversations

    [users.ops]
    role = "admin"         # a reviewer who also adds and removes documents

Without a users file there is one person, LOCAL, who may do everything: the app then listens
on 127.0.0.1 for the person at this machine.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

from bot.errors import ProcurebotError

ROLES = ("user", "reviewer", "admin")
ITERATIONS = 600_000  # PBKDF2-SHA256, OWASP's 2023 figure
SCHEME = "pbkdf2_sha256"


class AccessError(ProcurebotError):
    """The users file is wrong, or someone asked for what their role does not allow."""


class NotAllowed(AccessError):
    """The person's role does not allow this, or it is someone else's conversation."""


@dataclass(frozen=True)
class User:
    name: str
    role: str  # user | reviewer | admin

    @property
    def sees_everyone(self) -> bool:
        return self.role in ("reviewer", "admin")

    @property
    def reviews(self) -> bool:
        return self.role in ("reviewer", "admin")

    @property
    def manages_documents(self) -> bool:
        return self.role == "admin"


LOCAL = User("local", "admin")


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, ITERATIONS)
    return f"{SCHEME}${ITERATIONS}${_b64(salt)}${_b64(digest)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != SCHEME:
            return False
        computed = hashlib.pbkdf2_hmac("sha256", password.encode(), _unb64(salt), int(iterations))
        return hmac.compare_digest(computed, _unb64(digest))
    except ValueError:
        return False


@functools.cache
def _nobody() -> str:
    """What an unknown name's password is checked against: a hash of a random password, made
    at the first such login (not when the module loads: it costs one key derivation)."""
    return hash_password(secrets.token_urlsafe(16))


class Directory:
    """The people of a users file, checked once when the app starts."""

    def __init__(self, users: dict[str, tuple[User, str]]) -> None:
        self._users = users

    @classmethod
    def load(cls, path: Path) -> Directory:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise AccessError(f"The users file {path} cannot be read ({exc}).") from exc
        entries = data.get("users")
        if not isinstance(entries, dict) or not entries:
            raise AccessError(f"The users file {path} has no [users.<name>] entry.")
        users = {}
        for name, entry in entries.items():
            role = entry.get("role") if isinstance(entry, dict) else None
            password = entry.get("password") if isinstance(entry, dict) else None
            if role not in ROLES:
                raise AccessError(
                    f"{path}: users.{name}.role must be one of {', '.join(ROLES)}, not {role!r}."
                )
            if not isinstance(password, str) or not password.startswith(SCHEME + "$"):
                raise AccessError(
                    f"{path}: users.{name}.password must be a hash made by "
                    f"`procurebot user {name}` (plain passwords are not accepted)."
                )
            users[name] = (User(name, role), password)
        return cls(users)

    def authenticate(self, name: str, password: str) -> bool:
        """Whether `password` is `name`'s. An unknown name costs the same key derivation as a
        known one (checked against a hash of nobody's), so the time a login takes does not
        tell who has an account."""
        found = self._users.get(name)
        if found is None:
            check_password(password, _nobody())
            return False
        return check_password(password, found[1])

    def user(self, name: str) -> User:
        found = self._users.get(name)
        if found is None:
            raise NotAllowed(f"{name!r} is not in the users file.")
        return found[0]
