"""A Chroma server as the home of the store: reached, bounded in time, its failures explained.

Chroma's HTTP client reports a server that is not running as "Could not connect to a Chroma
server", waits forever for a reply, and passes on a proxy's or another program's error page
as a bare Exception. Here the server is asked for its heartbeat first (within seconds), the
client's waits are bounded, and every failure becomes one StoreError line that names the
address and what to do: StoreUnreachable for a server that does not answer.

The local folder's checks (locks, damaged files, moving aside) do not apply: the server owns
its files. The module imports httpx (Chroma's HTTP library) and chromadb's errors inside the
functions that need them; `index.chroma` remains the only module that opens a store.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from index.errors import StoreDamaged, StoreError, StoreUnreachable
from index.location import SETTINGS, ChromaServer

logger = logging.getLogger(__name__)

CONNECT_SECONDS = 10.0  # longest wait to connect to the server
REPLY_SECONDS = 120.0  # longest wait for one reply, once connected


def check_reachable(server: ChromaServer) -> None:
    """StoreError unless a Chroma server answers its heartbeat at `server`."""
    import httpx

    try:
        reply = httpx.get(f"{server.url}/api/v2/heartbeat", timeout=CONNECT_SECONDS)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise unreachable(server, exc) from exc
    if reply.status_code in (401, 403, 407):
        raise _refused(server, f"HTTP {reply.status_code}")
    if reply.status_code != 200 or "nanosecond heartbeat" not in reply.text:
        raise StoreError(
            f"The server at {server.url} does not answer as a Chroma server (HTTP "
            f"{reply.status_code} for /api/v2/heartbeat): check {SETTINGS}."
        )


def limit_waits(client: Any) -> None:
    """Bound the client's waits (Chroma's HTTP session has none), so a hung server is reported."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(REPLY_SECONDS, connect=CONNECT_SECONDS)
    else:  # another chromadb version: its own waits apply
        logger.info("cannot bound the waits of %s: no HTTP session found", type(client).__name__)


def unreachable(server: ChromaServer, exc: BaseException) -> StoreUnreachable:
    if server.host in ("127.0.0.1", "localhost", "::1"):
        start = f"start it with `chroma run --path <folder> --host {server.host}"
    else:
        start = f"start it on {server.host} with `chroma run --path <folder> --host <its address>"
    return StoreUnreachable(
        f"The Chroma server at {server.url} cannot be reached ({_reason(exc)}): {start} "
        f"--port {server.port}`, or set {SETTINGS} to where it runs."
    )


@contextmanager
def translated(server: ChromaServer, *, opening: bool = False) -> Iterator[None]:
    """The server's failures, and the client's, as StoreError messages that say what to do."""
    import httpx
    from chromadb.errors import AuthorizationError, ChromaAuthError, ChromaError, NotFoundError

    try:
        yield
    except httpx.TransportError as exc:  # refused, reset, timed out, TLS failed
        raise unreachable(server, exc) from exc
    except NotFoundError as exc:  # a collection deleted since it was opened
        raise StoreDamaged(
            f"The index {server.where} was removed or rebuilt by another program while "
            f"procurebot was running ({_reason(exc)}): restart procurebot to use the index "
            "there now."
        ) from exc
    except (AuthorizationError, ChromaAuthError) as exc:
        raise _refused(server, _reason(exc)) from exc
    except ChromaError as exc:
        raise StoreError(
            f"The Chroma server at {server.url} failed ({_reason(exc)}): see the server's "
            "log, then try again."
        ) from exc
    except ValueError as exc:
        if not opening:
            raise
        if isinstance(exc.__context__, httpx.TransportError):  # the client's own wording
            raise unreachable(server, exc.__context__) from exc
        raise StoreError(
            f"The server at {server.url} does not answer as a Chroma server "
            f"({_reason(exc)}): check {SETTINGS}."
        ) from exc
    except Exception as exc:
        if type(exc) is not Exception:  # only what Chroma's client raises for an error page
            raise
        raise StoreError(
            f"The Chroma server at {server.url} answered with an error ({_reason(exc)}): "
            "see the server's log (or the proxy's in front of it), then try again."
        ) from exc


def _refused(server: ChromaServer, reason: str) -> StoreError:
    return StoreError(
        f"The Chroma server at {server.url} refused procurebot ({reason}): procurebot sends "
        "no credentials, so let it through (for example, a proxy that admits this host) or "
        f"set {SETTINGS} to a server that does."
    )


def _reason(exc: BaseException) -> str:
    """A short, one-line reason: 'Connection refused', not '[Errno 111] Connection refused'."""
    text = re.sub(r"<[^>]*>", " ", str(exc))  # an HTML error page, as text
    text = re.sub(r"\[Errno -?\d+\]\s*", "", " ".join(text.split()))
    if len(text) > 160:
        text = text[:157] + "..."
    return text or type(exc).__name__
