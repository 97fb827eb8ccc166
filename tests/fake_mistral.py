"""A small fake of the Mistral chat API, served over real HTTP on 127.0.0.1 for tests.

The real `mistralai` SDK is pointed at it (``Mistral(api_key=..., server_url=server.url)``)
and each test scripts, in order, what the next chat request gets back::

    with FakeMistral() as server:
        server.enqueue(reply_error(429, headers={"Retry-After": "1"}), reply_json("Hello"))
        ...
        assert server.requests[0]["body"]["model"] == "mistral-medium-latest"

Routes: ``POST /v1/chat/completions`` consumes one scripted reply per request (the reply,
not the request, decides between JSON and a server-sent event stream); ``GET /v1/models``
answers a fixed model list without consuming the script; anything else is a JSON 404.
With nothing scripted a chat request gets a 500 whose body says "no reply scripted".
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypedDict

__all__ = [
    "DEFAULT_MODEL",
    "MODELS",
    "BodyReply",
    "DelayedReply",
    "FakeMistral",
    "RecordedRequest",
    "Reply",
    "StreamReply",
    "reply_delay",
    "reply_error",
    "reply_json",
    "reply_malformed",
    "reply_stream",
]

DEFAULT_MODEL = "mistral-medium-latest"
CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
NO_REPLY_SCRIPTED = "no reply scripted"

# What `GET /v1/models` answers, in the shape `client.models.list()` parses (ModelList).
MODELS: tuple[str, ...] = ("mistral-medium-latest", "mistral-small-latest")

_CREATED = 1_760_000_000  # a fixed Unix time, so replies are reproducible


# --------------------------------------------------------------------------- replies


@dataclass(frozen=True)
class BodyReply:
    """A complete HTTP response: a status, extra headers and a body sent with Content-Length."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class StreamReply:
    """A 200 `text/event-stream`: one ``data: <payload>`` event per entry of `events`.

    With `cut`, the connection is closed right after the last event, abruptly (the chunked
    body is never terminated). With `chunked` false the body has no framing at all and ends
    when the connection closes, so a cut is indistinguishable from a normal end.
    `interval` is a pause, in seconds, before each event after the first.
    """

    events: tuple[str, ...]
    cut: bool = False
    chunked: bool = True
    interval: float = 0.0


@dataclass(frozen=True)
class DelayedReply:
    """Wait `seconds` before sending `then` (the wait ends early when the server stops)."""

    seconds: float
    then: Reply


Reply = BodyReply | StreamReply | DelayedReply


def _json_bytes(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def _usage(usage: tuple[int, int]) -> dict[str, int]:
    prompt, completion = usage
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def completion_body(
    content: str,
    *,
    model: str = DEFAULT_MODEL,
    finish_reason: str = "stop",
    usage: tuple[int, int] = (10, 20),
) -> dict[str, Any]:
    """A chat completion as the API sends it (parsed by the SDK as ChatCompletionResponse)."""
    return {
        "id": "cmpl-fake-0001",
        "object": "chat.completion",
        "created": _CREATED,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "tool_calls": None},
                "finish_reason": finish_reason,
            }
        ],
        "usage": _usage(usage),
    }


def reply_json(
    content: str,
    *,
    model: str = DEFAULT_MODEL,
    finish_reason: str = "stop",
    usage: tuple[int, int] = (10, 20),
) -> BodyReply:
    """A normal 200 chat completion whose single choice says `content`.

    `usage` is (prompt_tokens, completion_tokens); total_tokens is their sum.
    """
    body = completion_body(content, model=model, finish_reason=finish_reason, usage=usage)
    return BodyReply(status=200, body=_json_bytes(body))


def _chunk(
    model: str, delta: dict[str, Any], finish_reason: str | None, usage: tuple[int, int] | None
) -> str:
    chunk: dict[str, Any] = {
        "id": "cmpl-fake-0001",
        "object": "chat.completion.chunk",
        "created": _CREATED,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    if usage is not None:
        chunk["usage"] = _usage(usage)
    return json.dumps(chunk, ensure_ascii=False)


def reply_stream(
    pieces: list[str],
    *,
    cut_after: int | None = None,
    model: str = DEFAULT_MODEL,
    usage: tuple[int, int] = (10, 20),
    chunked: bool = True,
    interval: float = 0.0,
) -> StreamReply:
    """A streamed answer: one chunk per piece, a final chunk with finish_reason "stop"
    (and usage), then ``data: [DONE]``, as the API sends them.

    With ``cut_after=n`` only the first n pieces are sent and the connection is then closed
    abruptly: no final chunk and no [DONE]. See `StreamReply` for `chunked` and `interval`.
    """
    if cut_after is not None and not 0 <= cut_after <= len(pieces):
        raise ValueError(f"cut_after must be between 0 and {len(pieces)}, not {cut_after}")
    events = [
        _chunk(
            model,
            {"role": "assistant", "content": piece} if i == 0 else {"content": piece},
            None,
            None,
        )
        for i, piece in enumerate(pieces)
    ]
    if cut_after is not None:
        return StreamReply(
            events=tuple(events[:cut_after]), cut=True, chunked=chunked, interval=interval
        )
    events.append(_chunk(model, {"content": ""}, "stop", usage))
    events.append("[DONE]")
    return StreamReply(events=tuple(events), cut=False, chunked=chunked, interval=interval)


def reply_error(
    status: int,
    body: dict[str, Any] | str | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> BodyReply:
    """An error status. A dict body is sent as JSON, a str as text/plain, None as an
    API-like JSON error (e.g. ``{"object": "error", "message": "...", ...}``)."""
    if body is None:
        body = {
            "object": "error",
            "message": _ERROR_MESSAGES.get(status, "Error"),
            "type": "fake_error",
            "param": None,
            "code": str(status),
        }
    if isinstance(body, str):
        return BodyReply(
            status=status,
            body=body.encode("utf-8"),
            content_type="text/plain; charset=utf-8",
            headers=tuple((headers or {}).items()),
        )
    return BodyReply(status=status, body=_json_bytes(body), headers=tuple((headers or {}).items()))


_ERROR_MESSAGES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    422: "Unprocessable Entity",
    429: "Requests rate limit exceeded",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def reply_delay(seconds: float, then: Reply) -> DelayedReply:
    """Answer `then`, but only after `seconds` (to make a client time out)."""
    if seconds < 0:
        raise ValueError("seconds must be >= 0")
    return DelayedReply(seconds=seconds, then=then)


def reply_malformed(text: str = "{not json") -> BodyReply:
    """A 200 labelled application/json whose body is not valid JSON."""
    return BodyReply(status=200, body=text.encode("utf-8"))


# --------------------------------------------------------------------------- recording


class RecordedRequest(TypedDict):
    """One request as the fake received it."""

    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]  # header names lower-cased
    authorization: str | None  # the Authorization header value, e.g. "Bearer sk-test"
    body: Any  # the parsed JSON body; None when there was no body or it was not JSON
    raw_body: bytes


# --------------------------------------------------------------------------- server


class _Server(ThreadingHTTPServer):
    """Threaded server that remembers its handler threads and open connections so that
    stopping it can unblock and join every one of them."""

    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, owner: FakeMistral) -> None:
        self.owner = owner
        self.stopping = threading.Event()
        self._guard = threading.Lock()
        self._handler_threads: list[threading.Thread] = []
        self._connections: set[socket.socket] = set()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name="fake-mistral-handler",
            daemon=True,
        )
        with self._guard:
            self._handler_threads = [t for t in self._handler_threads if t.is_alive()]
            self._handler_threads.append(thread)
            self._connections.add(request)
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        with self._guard:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hang up on purpose in these tests (timeouts); say nothing on stderr."""

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        self.shutdown()  # serve_forever returns; no new connections are accepted
        with self._guard:
            connections = list(self._connections)
            threads = list(self._handler_threads)
        for connection in connections:
            # Wakes handlers blocked reading the next request on a kept-alive connection.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, and chunked streams, like the real API
    server_version = "FakeMistral/1.0"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: no line on stderr per request."""

    # -- routing

    def do_GET(self) -> None:
        recorded = self._record()
        if recorded["path"] == MODELS_PATH:
            self._send_body(BodyReply(status=200, body=_json_bytes(_models_body())))
        else:
            self._send_not_found(recorded["path"])

    def do_POST(self) -> None:
        recorded = self._record()
        if recorded["path"] != CHAT_PATH:
            self._send_not_found(recorded["path"])
            return
        reply = self.server.owner._next_reply()
        try:
            if reply is None:
                body = {"object": "error", "message": NO_REPLY_SCRIPTED}
                self._send_body(reply_error(500, body))
            else:
                self._send(reply)
        finally:
            self.server.owner._replied()

    def do_PUT(self) -> None:
        self._send_not_found(self._record()["path"])

    def do_DELETE(self) -> None:
        self._send_not_found(self._record()["path"])

    def do_PATCH(self) -> None:
        self._send_not_found(self._record()["path"])

    # -- request

    def _record(self) -> RecordedRequest:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        path, _, query = self.path.partition("?")
        headers = {name.lower(): value for name, value in self.headers.items()}
        recorded = RecordedRequest(
            method=self.command,
            path=path,
            query=query,
            headers=headers,
            authorization=headers.get("authorization"),
            body=body,
            raw_body=raw,
        )
        self.server.owner._record(recorded)
        return recorded

    # -- responses

    def _send_not_found(self, path: str) -> None:
        self._send_body(reply_error(404, {"object": "error", "message": f"Not Found: {path}"}))

    def _send(self, reply: Reply) -> None:
        try:
            if isinstance(reply, DelayedReply):
                if self.server.stopping.wait(reply.seconds):
                    self.close_connection = True  # stopping: answer nothing
                    return
                self._send(reply.then)
            elif isinstance(reply, StreamReply):
                self._send_stream(reply)
            else:
                self._send_body(reply)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True  # the client gave up (e.g. timed out)

    def _send_body(self, reply: BodyReply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)
        self.wfile.flush()

    def _send_stream(self, reply: StreamReply) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        if reply.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.flush()
        for i, event in enumerate(reply.events):
            if i and reply.interval > 0 and self.server.stopping.wait(reply.interval):
                self._abort()
                return
            data = f"data: {event}\n\n".encode()
            if reply.chunked:
                data = f"{len(data):X}\r\n".encode("ascii") + data + b"\r\n"
            self.wfile.write(data)
            self.wfile.flush()
        if reply.cut:
            self._abort()
            return
        if reply.chunked:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    def _abort(self) -> None:
        """Close the connection now, mid-body."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _models_body() -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {
                "id": model,
                "object": "model",
                "created": _CREATED,
                "owned_by": "mistralai",
                "name": model,
                "description": f"Fake {model}",
                "max_context_length": 131072,
                "aliases": [],
                "capabilities": {
                    "completion_chat": True,
                    "function_calling": True,
                    "completion_fim": False,
                    "fine_tuning": False,
                    "vision": False,
                },
                "type": "base",
            }
            for model in MODELS
        ],
    }


class FakeMistral:
    """The fake API on 127.0.0.1 and an OS-chosen port, for the life of a ``with`` block."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._script: deque[Reply] = deque()
        self.requests: list[RecordedRequest] = []
        self._done = threading.Condition()
        self.replies_done = 0  # chat replies written out, or abandoned by their client
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- lifecycle

    def start(self) -> FakeMistral:
        if self._server is not None:
            raise RuntimeError("FakeMistral is already running")
        server = _Server(self)
        host, port = server.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="fake-mistral",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.stop()
        if thread is not None:
            thread.join(5.0)

    def _replied(self) -> None:
        with self._done:
            self.replies_done += 1
            self._done.notify_all()

    def wait_for_replies(self, count: int, timeout: float = 10.0) -> None:
        """Block until `count` chat replies are done (a delayed one included), instead of
        sleeping for a guessed time; AssertionError after `timeout` seconds."""
        with self._done:
            done = self._done.wait_for(lambda: self.replies_done >= count, timeout)
        assert done, f"{self.replies_done} of {count} replies done after {timeout} s"

    def __enter__(self) -> FakeMistral:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- script

    def enqueue(self, *replies: Reply) -> None:
        """Append replies; each chat request consumes the oldest one."""
        with self._lock:
            self._script.extend(replies)

    @property
    def pending(self) -> int:
        """How many scripted replies have not been consumed yet."""
        with self._lock:
            return len(self._script)

    def chat_requests(self) -> list[RecordedRequest]:
        """The recorded requests to the chat completions endpoint, in order."""
        with self._lock:
            return [r for r in self.requests if r["path"] == CHAT_PATH]

    def _next_reply(self) -> Reply | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)
