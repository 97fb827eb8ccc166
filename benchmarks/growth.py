"""One point of the growth curve, in its own process so that its peak memory is its own.

    python -m benchmarks.growth build FOLDER CACHE   index FOLDER/corpus into FOLDER/data
    python -m benchmarks.growth query FOLDER CACHE   warm latency, re-indexing, memory

CACHE is the file of real vectors that `BankEmbedder` keeps between runs.

Each prints one JSON object on its last line of output.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import date
from pathlib import Path

from benchmarks.measure import folder_mb, peak_rss_mb, summary_ms
from benchmarks.synthetic import BankEmbedder, bank
from bot.answering.engine import Engine, open_store, refresh_index
from bot.evaluation.golden import evaluate, load_cases
from bot.settings import PROJECT_ROOT, Settings
from index.embeddings import load_embedder

GOLDEN = PROJECT_ROOT / "tests" / "eval" / "golden.toml"
TODAY = date(2026, 11, 22)  # fixed, so that every run reasons about availability alike


def settings_for(folder: Path) -> Settings:
    return Settings(
        data_dir=folder / "data",
        corpus_dir=folder / "corpus",
        today=TODAY,
        backend="extractive",
    )


def embedder_for(settings: Settings, cache: Path) -> BankEmbedder:
    return BankEmbedder(load_embedder(settings.embedding_model, settings.embedding_threads), cache)


def build(folder: Path, cache: Path) -> dict[str, object]:
    settings = settings_for(folder)
    embedder = embedder_for(settings, cache)
    store = open_store(settings, embedder, rebuild=True)
    started = time.perf_counter()
    report = refresh_index(settings, store, embedder)
    seconds = time.perf_counter() - started
    return {
        "documents": len(report.added),
        "corpus_mb": folder_mb(settings.corpus_dir),
        "chunks": report.chunks_total,
        "index_seconds": round(seconds, 2),
        "embed_seconds": round(embedder.embed_seconds, 2),
        "embedded_characters": embedder.characters,
        "store_mb": folder_mb(settings.chroma_dir),
        "peak_rss_mb": peak_rss_mb(),
    }


def query(folder: Path, cache: Path) -> dict[str, object]:
    settings = settings_for(folder)
    embedder = embedder_for(settings, cache)
    started = time.perf_counter()
    engine = Engine(settings, open_store(settings, embedder), embedder)
    open_seconds = time.perf_counter() - started
    cases = load_cases(GOLDEN)
    for case in cases[:5]:
        engine.ask(case.question, case.history)
    retrieval_seconds = []
    for case in cases:
        started = time.perf_counter()
        engine.retrieve(case.question, case.history)
        retrieval_seconds.append(time.perf_counter() - started)
    report = evaluate(
        cases, lambda q, h: engine.ask(q, h), settings.corpus_dir.parent, "extractive", ""
    )
    answer_seconds = [r.latency_ms / 1000 for r in report.results]
    return {
        "open_seconds": round(open_seconds, 2),
        "retrieval": summary_ms(retrieval_seconds),
        "answer": summary_ms(answer_seconds),
        "hit_at_5": round(report.metrics["hit_at_5"], 3),
        "mrr": round(report.metrics["mrr"], 3),
        **reindex(engine, settings),
        "peak_rss_mb": peak_rss_mb(),
    }


CHANGES_TIMED = 7  # a single re-index varies by ±40 % on this machine: the median is reported


def reindex(engine: Engine, settings: Settings) -> dict[str, object]:
    """Seconds to re-index with nothing changed, with one document added, and (the median of
    CHANGES_TIMED runs) with that document changed."""
    timings: dict[str, object] = {}
    started = time.perf_counter()
    engine.reindex()
    timings["reindex_unchanged_seconds"] = round(time.perf_counter() - started, 2)
    extra = settings.corpus_dir / "zz_changed.md"
    sentences = bank()

    def timed(count: int) -> float:
        extra.write_text(
            "# A document that changes\n\n## Pricing\n\n" + " ".join(sentences[:count]) + "\n",
            encoding="utf-8",
        )
        started = time.perf_counter()
        report = engine.reindex()
        seconds = time.perf_counter() - started
        if report.chunks_embedded == 0:
            raise RuntimeError("re-indexing embedded nothing after the document changed")
        return seconds

    # The document is embedded by the real model through the vector cache: a first pass
    # fills the cache (untimed), so that every scale embeds the same texts alike.
    timed(12), timed(16)
    extra.unlink()
    engine.reindex()
    timings["reindex_one_added_seconds"] = round(timed(12), 2)
    changes = [timed(16 if i % 2 == 0 else 12) for i in range(CHANGES_TIMED)]
    timings["reindex_one_changed_seconds"] = round(statistics.median(changes), 3)
    extra.unlink()
    engine.reindex()
    return timings


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in ("build", "query"):
        print(__doc__, file=sys.stderr)
        return 2
    action, folder, cache = argv[0], Path(argv[1]), Path(argv[2])
    result = build(folder, cache) if action == "build" else query(folder, cache)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
