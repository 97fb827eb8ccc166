"""Run the benchmark: `python -m benchmarks` (or `make bench`) from the checkout's root.

    python -m benchmarks                        shipped corpus, baselines, growth at 1×, 10×, 100×
    python -m benchmarks --scales 1,10,100,1000 the same with the 1000× point (`make bench-1000`)

Figures are printed, and written to benchmarks/results/ as report.md, report.json and
growth.png. Work files (indexes, generated corpora, cached vectors) go to data/bench/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.growth import TODAY
from benchmarks.measure import folder_mb, peak_rss_mb, run_with_peak
from benchmarks.synthetic import write_corpus, write_document
from bot.settings import PROJECT_ROOT, Settings

QUESTION = "What does Mistral Medium 3 cost per million input and output tokens?"
PROCUREBOT = str(Path(sys.executable).with_name("procurebot"))
LARGE_CHARACTERS = 250_000  # issue 15: searchable within 60 s, at 4 KB/s or more


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--scales", default="1,10,100", help="growth points, e.g. 1,10,100,1000")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "benchmarks" / "results")
    parser.add_argument("--work", type=Path, default=PROJECT_ROOT / "data" / "bench")
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",") if s.strip()]
    started = time.perf_counter()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
    }
    shipped_dir = args.work / "shipped"
    _say("indexing the shipped corpus with the real model")
    results["shipped"] = index_shipped(shipped_dir)
    _say("indexing one 250 KB document with the real model")
    results["large"] = index_large(args.work / "large")
    _say("cold starts")
    results["startup"] = cold_starts(shipped_dir)
    _say("procurebot and the baselines on the golden set")
    results["cases"], results["pipelines"] = compare(shipped_dir, args.work / "tutorial")
    results["growth"] = []
    for scale in scales:
        _say(f"growth: {scale}×")
        results["growth"].append(
            grow(args.work, scale, results["shipped"]["seconds_per_character"])
        )
        results["minutes"] = round((time.perf_counter() - started) / 60, 1)
        written = report.write(results, args.out)  # after each point: a long run keeps its part
    if not scales:
        results["minutes"] = round((time.perf_counter() - started) / 60, 1)
        written = report.write(results, args.out)
    print(report.to_markdown(results))
    print(f"Took {results['minutes']} min. Written: " + ", ".join(str(p) for p in written))
    return 0


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    """The offline app's environment, with none of the caller's procurebot settings."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PROCUREBOT_", "MISTRAL_", "CHROMA_"))
    }
    env.update(
        PROCUREBOT_DATA_DIR=str(data_dir),
        PROCUREBOT_BACKEND="extractive",
        PROCUREBOT_TODAY=TODAY.isoformat(),
        GRADIO_ANALYTICS_ENABLED="False",
        **extra,
    )
    return env


def index_shipped(data_dir: Path) -> dict[str, Any]:
    """`procurebot index --rebuild` on the shipped corpus: time, size and memory."""
    from index.chunking import chunk_document
    from index.documents import scan_corpus
    from index.sentences import embedding_text, split_sentences

    run = run_with_peak([PROCUREBOT, "index", "--rebuild"], environment(data_dir))
    if run.returncode:
        raise SystemExit(f"procurebot index failed: {run.stderr.strip()[-2000:]}")
    seconds = float(re.search(r" in ([0-9.]+) s", run.stdout).group(1))  # type: ignore[union-attr]
    documents = scan_corpus(Settings().corpus_dir).documents
    chunks = [c for d in documents for c in chunk_document(d)]
    sentences = [(s, d) for d in documents for s in split_sentences(d)]
    characters = sum(len(c.embedding_text()) for c in chunks) + sum(
        len(embedding_text(s, d.text, d.title)) for s, d in sentences
    )
    model = re.search(r" with (\S+) in ", run.stdout)
    return {
        "documents": len(documents),
        "corpus_kb": round(sum(len(d.text) for d in documents) / 1000, 1),
        "model": model.group(1) if model else "",
        "index_seconds": seconds,
        "wall_seconds": round(run.seconds, 1),
        "chunks": len(chunks),
        "sentences": len(sentences),
        "kb_per_second": round(sum(len(d.text) for d in documents) / 1000 / seconds, 2),
        "chunks_per_second": round(len(chunks) / seconds, 1),
        "texts_per_second": round((len(chunks) + len(sentences)) / seconds, 1),
        "seconds_per_character": seconds / characters,
        "store_mb": folder_mb(data_dir / "chroma"),
        "peak_rss_mb": run.peak_rss_mb,
    }


def index_large(work: Path, characters: int = LARGE_CHARACTERS) -> dict[str, Any]:
    """`procurebot index --rebuild` of a corpus of one Markdown document of `characters`,
    made of the generated corpus's sentences: throughput in KB of text a second, and the
    time until the document is searchable (it is once all its entries are written)."""
    corpus = work / "corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    write_document(corpus / "large.md", characters)
    run = run_with_peak(
        [PROCUREBOT, "index", "--rebuild"],
        environment(work / "data", PROCUREBOT_CORPUS_DIR=str(corpus)),
    )
    if run.returncode:
        raise SystemExit(f"procurebot index failed: {run.stderr.strip()[-2000:]}")
    seconds = float(re.search(r" in ([0-9.]+) s", run.stdout).group(1))  # type: ignore[union-attr]
    kb = len((corpus / "large.md").read_text(encoding="utf-8")) / 1000
    return {
        "kb": round(kb, 1),
        "searchable_seconds": seconds,
        "kb_per_second": round(kb / seconds, 2),
        "peak_rss_mb": run.peak_rss_mb,
    }


def cold_starts(data_dir: Path) -> dict[str, float]:
    """Start to first answer: `procurebot ask` (median of 3) and `procurebot serve`."""
    asks = []
    for _ in range(3):
        run = run_with_peak([PROCUREBOT, "ask", QUESTION], environment(data_dir))
        if run.returncode or "[1]" not in run.stdout:
            raise SystemExit(f"procurebot ask failed: {run.stderr.strip()[-2000:]}")
        asks.append(run)
    asks.sort(key=lambda r: r.seconds)
    serve_seconds, serve_rss = cold_serve(data_dir)
    return {
        "ask_seconds": round(asks[1].seconds, 2),
        "ask_peak_rss_mb": max(r.peak_rss_mb for r in asks),
        "serve_seconds": round(serve_seconds, 2),
        "serve_peak_rss_mb": serve_rss,
    }


def cold_serve(data_dir: Path) -> tuple[float, float]:
    """Seconds from `procurebot serve` to its first answer over HTTP, and its peak RSS."""
    import socket

    from gradio_client import Client

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = data_dir / "serve.log"
    started = time.perf_counter()
    with log.open("wb") as errors:
        server = subprocess.Popen(
            [PROCUREBOT, "serve", "--port", str(port)],
            env=environment(data_dir),
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    try:
        while True:
            if server.poll() is not None or time.perf_counter() - started > 300:
                raise SystemExit(f"procurebot serve did not answer: see {log}")
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
                answer, _, _ = client.predict(QUESTION, "", api_name="/ask")
                break
            except Exception:  # not listening yet: Gradio's client raises several kinds
                time.sleep(0.2)
        seconds = time.perf_counter() - started
        if "[1]" not in str(answer):
            raise SystemExit(f"procurebot serve answered without a citation: {answer!r}")
        return seconds, peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(30)


def compare(data_dir: Path, tutorial_dir: Path) -> tuple[int, list[dict[str, Any]]]:
    from dataclasses import asdict

    from benchmarks import pipelines
    from benchmarks.growth import GOLDEN
    from bot.answering.engine import Engine
    from bot.evaluation.golden import load_cases

    engine = Engine.open(Settings(data_dir=data_dir, backend="extractive", today=TODAY))
    cases = load_cases(GOLDEN)
    shutil.rmtree(tutorial_dir, ignore_errors=True)
    retrievers = {
        "procurebot": pipelines.procurebot(engine),
        "bm25": pipelines.bm25_only(engine),
        "vectors": pipelines.vectors_only(engine),
        "langchain": pipelines.langchain_tutorial(engine, tutorial_dir),
    }
    results = pipelines.run(retrievers, engine, cases, PROJECT_ROOT)
    return len(cases), [asdict(r) for r in results]


def grow(work: Path, scale: int, seconds_per_character: float) -> dict[str, Any]:
    folder = work / "growth" / f"{scale}x"
    corpus = folder / "corpus"
    marker = corpus / ".generated"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(Settings().corpus_dir, corpus)
        shipped = sum(len(p.read_text(encoding="utf-8")) for p in corpus.glob("*.txt"))
        write_corpus(corpus / "synthetic", (scale - 1) * shipped)
        marker.write_text(f"{scale}\n", encoding="utf-8")
    cache = work / "bank-vectors.json"
    points: dict[str, Any] = {"scale": scale}
    for action in ("build", "query"):
        run = run_with_peak(
            [sys.executable, "-m", "benchmarks.growth", action, str(folder), str(cache)],
            environment(folder / "data", PYTHONPATH=str(PROJECT_ROOT)),
        )
        if run.returncode:
            raise SystemExit(f"growth {action} at {scale}× failed: {run.stderr[-3000:]}")
        points[action] = json.loads(run.stdout.strip().splitlines()[-1])
        points[action]["peak_rss_mb"] = run.peak_rss_mb
    build = points["build"]
    # Chunking, the store's writes and the bookkeeping, measured; the real model's embedding
    # of every text, projected at its rate on the shipped corpus (seconds per character).
    build["storage_seconds"] = round(build["index_seconds"] - build["embed_seconds"], 2)
    build["projected_index_seconds"] = round(
        build["storage_seconds"] + build["embedded_characters"] * seconds_per_character, 1
    )
    return points


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "an unknown commit"


def _say(step: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {step}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
