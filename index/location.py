"""Where the index lives: a folder on this machine, or a Chroma server started with `chroma run`.

A folder is opened by procurebot itself (Chroma embedded in the process); a server is reached
over HTTP and may be shared by several copies of the app. Messages about the index name the
place with `where`: "at /srv/procurebot/chroma", "on the Chroma server at http://chroma:8000".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

SETTINGS = "CHROMA_HOST and CHROMA_PORT (or CHROMA_URL)"  # how people point procurebot at one


@dataclass(frozen=True)
class ChromaFolder:
    """A Chroma store in a folder on this machine (data_dir/chroma)."""

    path: Path

    def __str__(self) -> str:
        return str(self.path)

    @property
    def where(self) -> str:
        return f"at {self.path}"


@dataclass(frozen=True)
class ChromaServer:
    """A Chroma server reached over HTTP, or HTTPS with `ssl`."""

    host: str
    port: int = 8000
    ssl: bool = False

    def __str__(self) -> str:
        return self.url

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address
        return f"{'https' if self.ssl else 'http'}://{host}:{self.port}"

    @property
    def where(self) -> str:
        return f"on the Chroma server at {self.url}"


StoreLocation = ChromaFolder | ChromaServer


def parse_server_url(url: str) -> ChromaServer:
    """`http(s)://host[:port]` as a server (port 80 or 443 when not given).

    ValueError, saying what is wrong, for anything else: another scheme, a path, a query,
    a user name or password, a port out of range.
    """
    shape = "expected http://host[:port] or https://host[:port], such as http://127.0.0.1:8000"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{shape}; got {url!r} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{shape}; got {url!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{shape}, without a path or query; got {url!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{shape}, without a user name or password; got {url!r}")
    if port == 0:
        raise ValueError(f"{shape}, with a port from 1 to 65535; got {url!r}")
    ssl = parts.scheme == "https"
    return ChromaServer(parts.hostname, (443 if ssl else 80) if port is None else port, ssl)


def check_host(host: str) -> str:
    """A host name or address as CHROMA_HOST takes it; ValueError for a URL or a host:port."""
    host = host.strip()
    if "://" in host:
        raise ValueError(f"a host name or address, not a URL (that is CHROMA_URL); got {host!r}")
    if not host or any(c in host for c in "/ @?#") or (host.count(":") == 1):
        raise ValueError(
            f"a host name or address such as 127.0.0.1 or chroma.internal (the port goes in "
            f"CHROMA_PORT); got {host!r}"
        )
    return host
