"""The fake Mistral server is faithful to the real `mistralai` SDK (3.7), over real HTTP.

Every test drives the real client against `tests.fake_mistral.FakeMistral` and pins down
what the SDK does in each case, so the application code can rely on it.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import httpx
import httpx2
import pytest
from mistralai.client import Mistral
from mistralai.client.errors import (
    HTTPValidationError,
    MistralError,
    ResponseValidationError,
    SDKError,
)
from mistralai.client.utils import BackoffStrategy, RetryConfig
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import from_json

from tests.fake_mistral import (
    FakeMistral,
    reply_delay,
    reply_error,
    reply_json,
    reply_malformed,
    reply_stream,
)

API_KEY = "sk-test-procurebot"
MODEL = "mistral-medium-latest"
MESSAGES: list[Any] = [
    {"role": "system", "content": "Answer from the sources."},
    {"role": "user", "content": "What does Alpha cost?"},
]
TIMEOUT_MS = 300


def fast_retries(*, connection_errors: bool = False, max_elapsed_ms: int = 3000) -> RetryConfig:
    """Backoff of at most 50 ms per attempt (jitter included), so any longer wait observed
    comes from a Retry-After header."""
    return RetryConfig(
        "backoff",
        BackoffStrategy(
            initial_interval=10, max_interval=50, exponent=1.5, max_elapsed_time=max_elapsed_ms
        ),
        retry_connection_errors=connection_errors,
    )


@pytest.fixture
def server() -> Iterator[FakeMistral]:
    with FakeMistral() as fake:
        yield fake


@pytest.fixture
def client(server: FakeMistral) -> Iterator[Mistral]:
    with Mistral(api_key=API_KEY, server_url=server.url) as sdk:
        yield sdk


def complete(client: Mistral, **kwargs: Any) -> Any:
    return client.chat.complete(model=MODEL, messages=MESSAGES, **kwargs)


# --------------------------------------------------------------------------- JSON completion


def test_server_listens_on_loopback_with_an_os_chosen_port(server: FakeMistral) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    assert not server.url.endswith("/v1")
    assert int(server.url.rsplit(":", 1)[1]) > 0


def test_json_completion_is_parsed(server: FakeMistral, client: Mistral) -> None:
    server.enqueue(reply_json("Alpha costs $3.", model="mistral-small-latest", usage=(11, 7)))

    response = complete(client)

    assert response.model == "mistral-small-latest"
    assert response.choices[0].message.content == "Alpha costs $3."
    assert response.choices[0].message.role == "assistant"
    assert response.choices[0].finish_reason == "stop"
    assert response.usage.prompt_tokens == 11
    assert response.usage.completion_tokens == 7
    assert response.usage.total_tokens == 18
    assert server.pending == 0


def test_finish_reason_length_is_passed_through(server: FakeMistral, client: Mistral) -> None:
    server.enqueue(reply_json("Alpha co", finish_reason="length"))
    assert complete(client).choices[0].finish_reason == "length"


def test_request_is_recorded_with_key_and_body(server: FakeMistral, client: Mistral) -> None:
    server.enqueue(reply_json("ok"))

    complete(client, temperature=0.2, random_seed=42, max_tokens=300)

    [request] = server.requests
    assert request["method"] == "POST"
    assert request["path"] == "/v1/chat/completions"
    assert request["authorization"] == f"Bearer {API_KEY}"
    assert request["headers"]["authorization"] == f"Bearer {API_KEY}"
    assert request["headers"]["content-type"] == "application/json"
    assert request["headers"]["accept"] == "application/json"
    body = request["body"]
    assert body["model"] == MODEL
    assert body["messages"] == MESSAGES
    assert body["temperature"] == 0.2
    assert body["random_seed"] == 42
    assert body["max_tokens"] == 300
    assert body["stream"] is False
    assert "response_format" not in body  # only sent when asked for


def test_unset_options_are_not_sent(server: FakeMistral, client: Mistral) -> None:
    server.enqueue(reply_json("ok"))
    complete(client)
    assert set(server.requests[0]["body"]) == {"model", "messages", "stream"}


# --------------------------------------------------------------------------- streaming


def test_stream_yields_the_pieces_in_order(server: FakeMistral, client: Mistral) -> None:
    pieces = ["Alpha ", "costs ", "$3 per ", "million tokens."]
    server.enqueue(reply_stream(pieces, usage=(5, 4)))

    texts: list[str] = []
    finish: list[Any] = []
    usage: list[Any] = []
    with client.chat.stream(model=MODEL, messages=MESSAGES) as events:
        for event in events:
            choice = event.data.choices[0]
            texts.append(choice.delta.content)
            finish.append(choice.finish_reason)
            usage.append(event.data.usage)

    assert texts == [*pieces, ""]  # the final chunk carries no text, only finish_reason
    assert "".join(texts) == "Alpha costs $3 per million tokens."
    assert finish == [None, None, None, None, "stop"]
    assert usage[-1].total_tokens == 9
    assert all(u is None for u in usage[:-1])
    [request] = server.requests
    assert request["path"] == "/v1/chat/completions"  # the SDK's "#stream" suffix is not sent
    assert request["body"]["stream"] is True
    assert request["headers"]["accept"] == "text/event-stream"
    assert request["authorization"] == f"Bearer {API_KEY}"


def test_cut_stream_raises_remote_protocol_error_after_the_pieces_sent(
    server: FakeMistral, client: Mistral
) -> None:
    server.enqueue(reply_stream(["Alpha ", "costs ", "$3."], cut_after=2))

    received: list[str] = []
    with (
        pytest.raises(httpx2.RemoteProtocolError, match="incomplete chunked read"),
        client.chat.stream(model=MODEL, messages=MESSAGES) as events,
    ):
        for event in events:
            received.append(event.data.choices[0].delta.content)
            assert event.data.choices[0].finish_reason is None

    assert received == ["Alpha ", "costs "]


def test_cut_stream_without_framing_ends_silently(server: FakeMistral, client: Mistral) -> None:
    """Where the body is not chunked (a proxy, HTTP/1.0), a cut looks like a normal end:
    no exception, no [DONE], and no finish_reason — the only sign of the cut."""
    server.enqueue(reply_stream(["Alpha ", "costs ", "$3."], cut_after=2, chunked=False))

    with client.chat.stream(model=MODEL, messages=MESSAGES) as events:
        chunks = [event.data.choices[0] for event in events]

    assert [c.delta.content for c in chunks] == ["Alpha ", "costs "]
    assert all(c.finish_reason is None for c in chunks)


def test_unframed_complete_stream_matches_chunked(server: FakeMistral, client: Mistral) -> None:
    server.enqueue(reply_stream(["a", "b"], chunked=False))
    with client.chat.stream(model=MODEL, messages=MESSAGES) as events:
        chunks = [event.data.choices[0] for event in events]
    assert [c.delta.content for c in chunks] == ["a", "b", ""]
    assert chunks[-1].finish_reason == "stop"


def test_stream_stalling_mid_answer_raises_read_timeout(
    server: FakeMistral, client: Mistral
) -> None:
    server.enqueue(reply_stream(["Alpha ", "costs"], interval=2.0))

    received: list[str] = []
    with (
        pytest.raises(httpx2.ReadTimeout),
        client.chat.stream(model=MODEL, messages=MESSAGES, timeout_ms=TIMEOUT_MS) as events,
    ):
        for event in events:
            received.append(event.data.choices[0].delta.content)

    assert received == ["Alpha "]


def test_stream_error_status_raises_before_any_event(server: FakeMistral, client: Mistral) -> None:
    server.enqueue(reply_error(429, headers={"Retry-After": "1"}))
    with pytest.raises(SDKError) as caught:
        client.chat.stream(model=MODEL, messages=MESSAGES)
    assert caught.value.status_code == 429


# --------------------------------------------------------------------------- HTTP errors


def test_401_raises_sdk_error_with_status_code(server: FakeMistral, client: Mistral) -> None:
    server.enqueue(reply_error(401, {"message": "Unauthorized"}))

    with pytest.raises(SDKError) as caught:
        complete(client)

    error = caught.value
    assert type(error) is SDKError
    assert type(error).__module__ == "mistralai.client.errors.sdkerror"
    assert isinstance(error, MistralError)
    assert error.status_code == 401
    assert json.loads(error.body) == {"message": "Unauthorized"}
    assert error.message == 'API error occurred: Status 401. Body: {"message": "Unauthorized"}'
    assert str(error) == error.message


def test_4xx_is_never_retried(server: FakeMistral, client: Mistral) -> None:
    server.enqueue(reply_error(401, {"message": "Unauthorized"}), reply_json("unused"))
    with pytest.raises(SDKError):
        complete(client, retries=fast_retries())
    assert len(server.requests) == 1
    assert server.pending == 1


def test_429_without_retry_config_raises(server: FakeMistral, client: Mistral) -> None:
    server.enqueue(reply_error(429, headers={"Retry-After": "1"}), reply_json("unused"))

    with pytest.raises(SDKError) as caught:
        complete(client)

    assert caught.value.status_code == 429
    assert caught.value.headers["retry-after"] == "1"
    assert len(server.requests) == 1


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The SDK's retry waits, recorded instead of slept (so nothing here is timed)."""
    from mistralai.client.utils import retries

    asked: list[float] = []
    monkeypatch.setattr(retries.time, "sleep", asked.append)
    return asked


def test_429_with_retry_config_waits_retry_after_then_succeeds(
    server: FakeMistral, client: Mistral, waits: list[float]
) -> None:
    server.enqueue(reply_error(429, headers={"Retry-After": "1"}), reply_json("after the wait"))

    response = complete(client, retries=fast_retries())

    assert response.choices[0].message.content == "after the wait"
    assert len(server.requests) == 2
    assert server.requests[0]["body"] == server.requests[1]["body"]
    # The backoff alone is capped at 50 ms: the second waited is Retry-After's, as written.
    assert waits == [1.0]


def test_retry_after_ms_header_is_honoured_too(
    server: FakeMistral, client: Mistral, waits: list[float]
) -> None:
    server.enqueue(
        reply_error(429, headers={"retry-after-ms": "400"}), reply_json("after the wait")
    )
    complete(client, retries=fast_retries())
    assert waits == [0.4]
    assert len(server.requests) == 2


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_without_retry_config_raises(server: FakeMistral, client: Mistral, status: int) -> None:
    server.enqueue(reply_error(status), reply_json("unused"))
    with pytest.raises(SDKError) as caught:
        complete(client)
    assert caught.value.status_code == status
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_with_retry_config_is_retried(
    server: FakeMistral, client: Mistral, status: int
) -> None:
    server.enqueue(reply_error(status), reply_json("second time lucky"))
    response = complete(client, retries=fast_retries())
    assert response.choices[0].message.content == "second time lucky"
    assert len(server.requests) == 2


def test_retry_config_on_the_client_applies_to_every_call(server: FakeMistral) -> None:
    server.enqueue(reply_error(503), reply_json("ok"))
    with Mistral(api_key=API_KEY, server_url=server.url, retry_config=fast_retries()) as sdk:
        assert complete(sdk).choices[0].message.content == "ok"
    assert len(server.requests) == 2


def test_exhausted_retries_raise_the_last_error(server: FakeMistral, client: Mistral) -> None:
    server.enqueue(*[reply_error(503) for _ in range(50)])

    with pytest.raises(SDKError) as caught:
        complete(client, retries=fast_retries(max_elapsed_ms=150))

    assert caught.value.status_code == 503
    assert len(server.requests) >= 2


def test_text_error_body_is_kept(server: FakeMistral, client: Mistral) -> None:
    server.enqueue(reply_error(503, "upstream down"))
    with pytest.raises(SDKError) as caught:
        complete(client)
    assert caught.value.body == "upstream down"
    assert 'Content-Type "text/plain; charset=utf-8"' in caught.value.message


def test_422_raises_http_validation_error(server: FakeMistral, client: Mistral) -> None:
    detail = [{"loc": ["body", "model"], "msg": "unknown model", "type": "value_error"}]
    server.enqueue(reply_error(422, {"detail": detail}))

    with pytest.raises(HTTPValidationError) as caught:
        complete(client)

    assert caught.value.status_code == 422
    assert caught.value.data.detail is not None
    assert caught.value.data.detail[0].msg == "unknown model"


# --------------------------------------------------------------------------- timeouts


def test_delay_beyond_timeout_raises_httpx2_read_timeout(
    server: FakeMistral, client: Mistral
) -> None:
    server.enqueue(reply_delay(3.0, reply_json("too late")))

    with pytest.raises(httpx2.ReadTimeout) as caught:
        complete(client, timeout_ms=TIMEOUT_MS)

    assert type(caught.value) is httpx2.ReadTimeout
    assert type(caught.value).__module__ == "httpx2"
    assert isinstance(caught.value, httpx2.TimeoutException)
    # Not the `httpx` package's class: `except httpx.TimeoutException` would miss it.
    assert not isinstance(caught.value, httpx.TimeoutException)
    assert not isinstance(caught.value, MistralError)


def test_client_level_timeout_applies(server: FakeMistral) -> None:
    server.enqueue(reply_delay(3.0, reply_json("too late")))
    with (
        Mistral(api_key=API_KEY, server_url=server.url, timeout_ms=TIMEOUT_MS) as sdk,
        pytest.raises(httpx2.ReadTimeout),
    ):
        complete(sdk)


def test_delay_within_timeout_answers(server: FakeMistral, client: Mistral) -> None:
    server.enqueue(reply_delay(0.05, reply_json("just in time")))
    assert complete(client, timeout_ms=2000).choices[0].message.content == "just in time"


def test_timeout_is_not_retried_without_retry_connection_errors(
    server: FakeMistral, client: Mistral
) -> None:
    server.enqueue(reply_delay(3.0, reply_json("too late")), reply_json("unused"))
    with pytest.raises(httpx2.ReadTimeout):
        complete(client, timeout_ms=TIMEOUT_MS, retries=fast_retries(connection_errors=False))
    assert len(server.requests) == 1
    assert server.pending == 1


def test_timeout_is_retried_with_retry_connection_errors(
    server: FakeMistral, client: Mistral
) -> None:
    server.enqueue(reply_delay(3.0, reply_json("too late")), reply_json("retried"))
    response = complete(client, timeout_ms=TIMEOUT_MS, retries=fast_retries(connection_errors=True))
    assert response.choices[0].message.content == "retried"
    assert len(server.requests) == 2


def test_connection_refused_raises_httpx2_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (
        Mistral(api_key=API_KEY, server_url=f"http://127.0.0.1:{port}") as sdk,
        pytest.raises(httpx2.ConnectError),
    ):
        complete(sdk)


# --------------------------------------------------------------------------- malformed


def test_malformed_json_raises_response_validation_error(
    server: FakeMistral, client: Mistral
) -> None:
    server.enqueue(reply_malformed("{not json"))

    with pytest.raises(ResponseValidationError) as caught:
        complete(client)

    error = caught.value
    assert type(error).__module__ == "mistralai.client.errors.responsevalidationerror"
    assert isinstance(error, MistralError)
    assert error.status_code == 200
    assert error.body == "{not json"
    assert error.message.startswith("Response validation failed")


def test_json_of_the_wrong_shape_raises_response_validation_error(
    server: FakeMistral, client: Mistral
) -> None:
    server.enqueue(reply_malformed('{"choices": "nope"}'))
    with pytest.raises(ResponseValidationError):
        complete(client)


# --------------------------------------------------------------------------- structured output


class Quote(BaseModel):
    vendor: str
    price_eur: float


def test_chat_parse_sends_a_strict_schema_and_returns_the_model(
    server: FakeMistral, client: Mistral
) -> None:
    server.enqueue(reply_json('{"vendor": "Acme", "price_eur": 12.5}'))

    response = client.chat.parse(Quote, model=MODEL, messages=MESSAGES, temperature=0)

    assert response.choices is not None
    message = response.choices[0].message
    assert message is not None
    assert isinstance(message.parsed, Quote)
    assert message.parsed == Quote(vendor="Acme", price_eur=12.5)
    assert message.content == '{"vendor": "Acme", "price_eur": 12.5}'
    body = server.requests[0]["body"]
    assert body["temperature"] == 0
    response_format = body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "Quote"
    assert response_format["json_schema"]["strict"] is True
    assert response_format["json_schema"]["schema"]["required"] == ["vendor", "price_eur"]
    assert response_format["json_schema"]["schema"]["additionalProperties"] is False


def test_chat_parse_stream_sends_the_schema_and_streams_json_pieces(
    server: FakeMistral, client: Mistral
) -> None:
    """The stream is JSON text in pieces; pydantic's partial parsing reads what has arrived."""
    server.enqueue(reply_stream(['{"vendor": "Ac', 'me", "price', '_eur": 12.5}']))
    with client.chat.parse_stream(Quote, model=MODEL, messages=MESSAGES) as events:
        pieces = [event.data.choices[0].delta.content or "" for event in events]
    seen = [from_json("".join(pieces[:n]), allow_partial=True) for n in range(1, 4)]
    assert seen == [{}, {"vendor": "Acme"}, {"vendor": "Acme", "price_eur": 12.5}]
    assert server.requests[0]["body"]["response_format"]["json_schema"]["name"] == "Quote"
    assert server.requests[0]["body"]["stream"] is True


def test_chat_parse_of_non_json_content_raises_json_decode_error(
    server: FakeMistral, client: Mistral
) -> None:
    server.enqueue(reply_json("Sorry, I cannot answer."))
    with pytest.raises(json.JSONDecodeError):
        client.chat.parse(Quote, model=MODEL, messages=MESSAGES)


def test_chat_parse_of_mismatched_json_raises_pydantic_validation_error(
    server: FakeMistral, client: Mistral
) -> None:
    server.enqueue(reply_json('{"vendor": 3}'))
    with pytest.raises(PydanticValidationError):
        client.chat.parse(Quote, model=MODEL, messages=MESSAGES)


# --------------------------------------------------------------------------- the fake itself


def test_unscripted_request_fails_loudly(server: FakeMistral, client: Mistral) -> None:
    with pytest.raises(SDKError) as caught:
        complete(client)
    assert caught.value.status_code == 500
    assert "no reply scripted" in caught.value.body


def test_replies_are_consumed_in_order(server: FakeMistral, client: Mistral) -> None:
    server.enqueue(reply_json("first"), reply_json("second"))
    server.enqueue(reply_json("third"))
    contents = [complete(client).choices[0].message.content for _ in range(3)]
    assert contents == ["first", "second", "third"]
    assert server.pending == 0


def test_unknown_path_is_a_json_404(server: FakeMistral) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{server.url}/v1/embeddings", timeout=5)
    with caught.value as response:
        assert response.code == 404
        assert response.headers["Content-Type"] == "application/json"
        assert json.loads(response.read())["message"] == "Not Found: /v1/embeddings"
    assert server.requests[0]["path"] == "/v1/embeddings"


def test_reply_constructors_reject_nonsense() -> None:
    with pytest.raises(ValueError):
        reply_stream(["a"], cut_after=2)
    with pytest.raises(ValueError):
        reply_delay(-1, reply_json("x"))


def handlers_alive() -> list[threading.Thread]:
    """The fake's request handlers still running: its `stop` joins each for up to 5 s, so one
    left alive means stopping did not unblock it."""
    return [t for t in threading.enumerate() if t.name == "fake-mistral-handler" and t.is_alive()]


def test_stopping_does_not_wait_for_a_pending_delay() -> None:
    with FakeMistral() as fake:
        fake.enqueue(reply_delay(30.0, reply_json("never")))
        with (
            Mistral(api_key=API_KEY, server_url=fake.url) as sdk,
            pytest.raises(httpx2.ReadTimeout),
        ):
            complete(sdk, timeout_ms=TIMEOUT_MS)
    assert not handlers_alive(), "stopping left the delayed handler sleeping"


def test_stopping_closes_kept_alive_connections_promptly() -> None:
    with Mistral(api_key=API_KEY, server_url="http://127.0.0.1:1") as sdk:
        with FakeMistral() as fake:
            fake.enqueue(reply_json("one"))
            complete(sdk, server_url=fake.url)  # leaves a pooled keep-alive connection
        assert not handlers_alive(), "stopping left a kept-alive connection's handler waiting"
        with pytest.raises(httpx2.ConnectError):  # the server is really gone
            complete(sdk, server_url=fake.url)


def test_requests_print_nothing_on_stderr(
    server: FakeMistral, client: Mistral, capfd: pytest.CaptureFixture[str]
) -> None:
    server.enqueue(
        reply_json("ok"),
        reply_error(404),
        reply_delay(0.6, reply_json("the client is gone by now")),
        reply_stream(["a", "b"], cut_after=1),
    )
    complete(client)
    with pytest.raises(SDKError):
        complete(client)
    with pytest.raises(httpx2.ReadTimeout):
        complete(client, timeout_ms=TIMEOUT_MS)
    server.wait_for_replies(3)  # the delayed handler has written to a closed connection
    with (
        pytest.raises(httpx2.RemoteProtocolError),
        client.chat.stream(model=MODEL, messages=MESSAGES) as events,
    ):
        list(events)
    client.models.list()

    captured = capfd.readouterr()
    assert captured.err == ""
    assert captured.out == ""
