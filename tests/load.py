"""Load test: N people asking at once through `gradio_client`, each in their own conversation.

    python -m tests.load                       # 20 users × 10 questions against a server it starts
    python -m tests.load --users 5 --questions 3 --url http://127.0.0.1:7860/ --password …

Without --url it starts `procurebot serve` on 127.0.0.1 (offline backend, login on, one
account per simulated user) over a scratch data folder, copying the index from --data-dir
when it has one (else building it first). Each user logs in, asks its first question in a new
conversation and the others as follow-ups in it, then exports the conversation. It checks that
every question was answered, that every answer came back for the question asked, and that
each conversation holds exactly its owner's questions, in order (no answer in another person's
conversation). It prints p50/p95/max latency, throughput and errors, and exits 1 on any error.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

QUESTIONS = [
    "What does Mistral Medium 3 cost per million output tokens?",
    "Can Mistral Medium 3 be self-hosted, and on how many GPUs?",
    "Which clouds offer Mistral Medium 3.1?",
    "Is mistral-medium-2312 still available?",
    "Are the weights of Mistral Medium 3 open?",
    "What is the context window of Mistral Medium 3?",
    "Is Mistral Medium 3 multimodal?",
    "What does Mistral Medium 3 cost per million input tokens?",
    "When was Mistral Medium 3 released?",
    "Can Mistral Medium 3 run on premises in the EU?",
    "Combien coûte Mistral Medium 3 par million de jetons de sortie ?",
    "Kann man Mistral Medium 3 selbst hosten?",
    "Which model replaces mistral-medium-2312?",
    "Is Mistral Medium 3 available on Amazon Bedrock?",
    "What licence does Mistral Medium 3 have?",
    "How does Mistral Medium 3 compare with Claude Sonnet 3.7 on price?",
    "Is Mistral Medium 3.1 available through the API?",
    "Who won the 2022 FIFA World Cup?",
    "What is the model id of Mistral Medium 3.1?",
    "Does Mistral Medium 3 support function calling?",
]
PASSWORD = "load-test-password"


@dataclass
class UserResult:
    name: str
    latencies: list[float] = field(default_factory=list)  # seconds per /ask
    errors: list[str] = field(default_factory=list)
    crossed: list[str] = field(default_factory=list)  # answers that reached the wrong place
    answered: int = 0
    login: float = 0.0  # seconds to log in and load the app's description


@dataclass(frozen=True)
class Summary:
    users: int
    questions_per_user: int
    asked: int
    answered: int
    errors: int
    cross_user: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    seconds: float
    per_second: float
    login_max_ms: float = 0.0
    first_errors: tuple[str, ...] = ()

    def table(self) -> str:
        rows = [
            ("simultaneous users × questions", f"{self.users} × {self.questions_per_user}"),
            ("answered", f"{self.answered} of {self.asked}"),
            ("errors", str(self.errors)),
            ("answers in another person's conversation", str(self.cross_user)),
            (
                "latency p50 / p95 / max",
                f"{self.p50_ms:.0f} / {self.p95_ms:.0f} / {self.max_ms:.0f} ms",
            ),
            ("throughput", f"{self.per_second:.1f} answers/s over {self.seconds:.0f} s"),
            ("slowest login (all at once)", f"{self.login_max_ms:.0f} ms"),
        ]
        lines = ["| load | figure |", "|---|---|", *(f"| {a} | {b} |" for a, b in rows)]
        return "\n".join(lines + [f"error: {e}" for e in self.first_errors])


def run_user(url: str, index: int, questions: int, password: str, result: UserResult) -> None:
    from gradio_client import Client

    name = result.name
    asked = [QUESTIONS[(index + i) % len(QUESTIONS)] for i in range(questions)]
    started = time.perf_counter()
    try:
        # A browser waits for its login; gradio_client gives up after 5 s unless told.
        client = Client(
            url,
            auth=(name, password) if password else None,
            verbose=False,
            httpx_kwargs={"timeout": 120},
        )
        result.login = time.perf_counter() - started
    except Exception as exc:
        result.errors.append(f"{name}: cannot connect: {exc}")
        return
    conversation = ""
    answered: list[str] = []  # the questions answered, in order
    for question in asked:
        started = time.perf_counter()
        try:
            _, citations, returned = client.predict(question, conversation, api_name="/ask")
        except Exception as exc:
            result.errors.append(f"{name}: {question!r}: {' '.join(str(exc).split())[:200]}")
            continue
        result.latencies.append(time.perf_counter() - started)
        result.answered += 1
        if conversation and returned != conversation:
            result.crossed.append(f"{name}: the answer came back in conversation {returned}")
        conversation = returned
        answered.append(question)
        for citation in citations:
            if not isinstance(citation, dict) or "quote" not in citation:
                result.crossed.append(f"{name}: a citation is not one: {citation!r}")
    if conversation:
        _check_conversation(client, name, conversation, answered, result)


def _check_conversation(
    client: object, name: str, conversation: str, answered: list[str], result: UserResult
) -> None:
    """The saved conversation is this person's and holds exactly their answered questions."""
    try:
        path = client.predict(conversation, "json", api_name="/export")  # type: ignore[attr-defined]
        saved = json.loads(Path(path).read_text(encoding="utf-8"))
    except Exception as exc:
        result.errors.append(f"{name}: export: {exc}")
        return
    owner = saved["conversation"]["user"]
    kept = [t["question"] for t in saved["turns"] if t["status"] == "answered"]
    if owner not in (name, "local") or kept[-len(answered) :] != answered:
        result.crossed.append(f"{name}: conversation {conversation} of {owner} holds {kept}")


def run(url: str, users: int, questions: int, password: str = PASSWORD) -> Summary:
    """Drive `users` simulated people at once; each is called user01, user02, …"""
    results = [UserResult(f"user{i + 1:02d}") for i in range(users)]
    threads = [
        threading.Thread(target=run_user, args=(url, i, questions, password, r), daemon=True)
        for i, r in enumerate(results)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    latencies = sorted(x * 1000 for r in results for x in r.latencies)
    errors = [e for r in results for e in r.errors]
    crossed = [c for r in results for c in r.crossed]
    answered = sum(r.answered for r in results)
    return Summary(
        users=users,
        questions_per_user=questions,
        asked=users * questions,
        answered=answered,
        errors=len(errors),
        cross_user=len(crossed),
        p50_ms=statistics.median(latencies) if latencies else 0.0,
        p95_ms=_percentile(latencies, 0.95),
        max_ms=latencies[-1] if latencies else 0.0,
        seconds=seconds,
        per_second=answered / seconds if seconds else 0.0,
        login_max_ms=max(r.login for r in results) * 1000,
        first_errors=tuple((errors + crossed)[:5]),
    )


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def users_file(path: Path, users: int, password: str) -> Path:
    """A users file with user01…userNN, all with `password` (role user)."""
    from bot.workspace.access import hash_password

    hashed = hash_password(password)
    entries = [
        f'[users.user{i + 1:02d}]\nrole = "user"\npassword = "{hashed}"\n' for i in range(users)
    ]
    path.write_text("\n".join(entries), encoding="utf-8")
    return path


def scratch_data(source: Path | None) -> Path:
    """A fresh data folder; with the index of `source` copied in when it has one."""
    data = Path(tempfile.mkdtemp(prefix="procurebot-load-"))
    if source is not None and (source / "chroma").is_dir():
        shutil.copytree(source / "chroma", data / "chroma")
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--questions", type=int, default=10, help="questions per user")
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("--password", default=PASSWORD, help="every user's password (--url)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path("data"),
        help="copy the index from here when starting a server",
    )
    parser.add_argument(
        "--concurrency", type=int, help="PROCUREBOT_CONCURRENCY of the server it starts"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--report", type=Path, help="append a row to this reliability log")
    args = parser.parse_args(argv)
    server = None
    try:
        if args.url:
            url = args.url
        else:
            url, server = _start(args.users, args.data_dir, args.concurrency)
        summary = run(url, args.users, args.questions, args.password)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    print(summary.table())
    if args.json:
        args.json.write_text(json.dumps(asdict(summary), indent=2), encoding="utf-8")
    held = summary.errors == 0 and summary.cross_user == 0 and summary.answered == summary.asked
    if args.report:
        _report(args.report, summary, held, "with login" if not args.url else args.url)
    return 0 if held else 1


def _report(log: Path, summary: Summary, held: bool, where: str) -> None:
    from tests.reliability import Row

    row = Row(
        "load",
        f"{summary.users} people × {summary.questions_per_user} questions at once ({where})",
        f"{summary.answered}/{summary.asked} answered, {summary.errors} errors, "
        f"{summary.cross_user} cross-user; p50 {summary.p50_ms:.0f} ms, p95 "
        f"{summary.p95_ms:.0f} ms, max {summary.max_ms:.0f} ms; {summary.per_second:.1f}/s",
        passed=held,
        test="python -m tests.load",
    )
    with log.open("a", encoding="utf-8") as out:
        out.write(json.dumps(asdict(row), ensure_ascii=False) + "\n")


def _start(users: int, source: Path, concurrency: int | None) -> tuple[str, object]:
    from tests.servers import free_port, start_serve

    data = scratch_data(source)
    people = users_file(data / "users.toml", users, PASSWORD)
    port = free_port()
    print(f"starting procurebot serve on 127.0.0.1:{port} over {data}", file=sys.stderr)
    env = {"PROCUREBOT_USERS_FILE": str(people)}
    if concurrency:
        env["PROCUREBOT_CONCURRENCY"] = str(concurrency)
    server = start_serve(data, port, data / "serve.log", env, wait=600)
    return f"http://127.0.0.1:{port}/", server


if __name__ == "__main__":
    sys.exit(main())
