"""The benchmark's own parts: generated corpora, bank embeddings, percentiles and the report."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from benchmarks import report
from benchmarks.measure import percentile
from benchmarks.synthetic import GENERATED, BankEmbedder, bank, write_corpus
from index.documents import scan_corpus


class CountingEmbedder(Embeddings):
    """Stands in for the real model (whose speed is what the benchmark measures)."""

    name, dim = "counting", 8

    def __init__(self) -> None:
        self.texts: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.texts += texts
        return [self._vector(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        self.texts.append(text)
        return self._vector(text)

    @staticmethod
    def _vector(text: str) -> list[float]:
        rng = np.random.default_rng(abs(hash(text)) % 2**32)
        vector = rng.normal(size=8)
        return list(vector / np.linalg.norm(vector))


def test_generated_corpora_are_the_same_for_a_seed_and_made_of_the_bank(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    count = write_corpus(first, 50_000)
    assert write_corpus(second, 50_000) == count
    texts = {p.name: p.read_bytes() for p in sorted(first.iterdir())}
    assert texts == {p.name: p.read_bytes() for p in sorted(second.iterdir())}
    assert sum(len(t.decode()) for t in texts.values()) >= 50_000
    sentences = set(bank())
    assert len(sentences) == len(bank())  # distinct
    scan = scan_corpus(first)
    assert not scan.problems and len(scan.documents) == count
    body = next(iter(texts.values())).decode()
    paragraphs = [line for line in body.splitlines() if line and not line.startswith("#")]
    assert paragraphs and all(
        any(line.startswith(sentence) for sentence in sentences) for line in paragraphs
    )


def test_bank_embeddings_are_learnt_once_and_generated_text_costs_no_model_call(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "vectors.json"
    real = CountingEmbedder()
    embedder = BankEmbedder(real, cache)
    assert len(real.texts) == len(bank()) and cache.exists()
    assert BankEmbedder(real, cache) and len(real.texts) == len(bank())  # from the cache

    first, second = bank()[:2]
    real.texts.clear()
    [vector] = embedder.embed_documents([f"{GENERATED} sheet — Pricing\n{first} {second}"])
    assert real.texts == []
    expected = np.mean([real._vector(first), real._vector(second)], axis=0)
    assert np.allclose(vector, expected / np.linalg.norm(expected), atol=1e-5)
    [sentence] = embedder.embed_documents([f"{GENERATED} sheet — Pricing: {first}"])
    assert np.allclose(sentence, real._vector(first), atol=1e-5)
    cut = embedder.embed_documents([f"{GENERATED} sheet\n{first[: len(first) // 2]}"])
    assert real.texts == [] and len(cut[0]) == 8  # part of a sentence: from the bank too

    shipped = "Mistral Medium 3 costs $0.40 per million input tokens."
    embedder.embed_documents([shipped, shipped])
    assert real.texts == [shipped]  # a real text, embedded by the model once
    embedder.embed_query("What does it cost?")
    embedder.embed_query("What does it cost?")
    assert real.texts[1:] == ["What does it cost?"] * 2  # every question, by the model


@pytest.mark.parametrize(
    ("values", "percent", "expected"),
    [([3.0, 1.0, 2.0], 50, 2.0), ([1.0] * 19 + [9.0], 95, 1.0), ([1.0] * 18 + [9.0] * 2, 95, 9.0)],
)
def test_nearest_rank_percentiles(values: list[float], percent: float, expected: float) -> None:
    assert percentile(values, percent) == expected


RESULTS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "bench_results.json").read_text(encoding="utf-8")
)


def test_the_report_states_each_target_and_draws_the_growth(tmp_path: Path) -> None:
    written = report.write(RESULTS, tmp_path)
    assert [p.name for p in written] == ["report.md", "report.json", "growth.png"]
    assert (tmp_path / "growth.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| bm25 | 1.04× | 1.13× |" in text
    assert "met: warm offline answer p95 at 1× 60 ms, target ≤ 150 ms" in text
    assert "met: re-indexing one changed document took 0.20 s at 1× and 0.20 s at 1000×" in text
    assert "met: a 250 KB document indexed at 5.00 KB/s, searchable after 50 s" in text
    assert "| indexing throughput | 1.10 KB of text/s |" in text
    assert "MISSED" not in text
    assert report.growth_exponents(RESULTS["growth"])["store size"] == pytest.approx(1.0, 0.05)


def test_a_missed_target_is_reported_as_missed() -> None:
    worse = copy.deepcopy(RESULTS)
    worse["pipelines"][0]["mrr"] = 0.5
    worse["pipelines"][0]["answer"]["p95_ms"] = 1000.0
    worse["growth"][-1]["query"]["answer"]["p95_ms"] = 900.0
    worse["growth"][-1]["query"]["reindex_one_changed_seconds"] = 20.0  # 100× the 1× time
    worse["large"].update(searchable_seconds=250.0, kb_per_second=1.0)
    missed = [line for line in report.verdicts(worse) if line.startswith("MISSED")]
    # MRR under each of three baselines, latency ratio, 1000× p95, large document, re-indexing
    assert len(missed) == 7
    assert "MISSED: a 250 KB document indexed at 1.00 KB/s, searchable after 250 s" in missed[-2]
    assert "MISSED: re-indexing one changed document took 0.20 s at 1× and 20.00 s" in missed[-1]
