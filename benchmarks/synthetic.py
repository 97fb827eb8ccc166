"""Synthetic procurement documents for the growth benchmark, and how they are embedded.

The corpus at N× is the shipped corpus plus generated Markdown documents making up the rest of
N times its characters: price sheets, deployment guides, deprecation notices, licence and data
residency notes about invented vendors and models. Nothing is downloaded; the same seed gives
the same documents.

Embedding 1000× the corpus with the real model would take hours on two cores (it embeds about
17 texts a second), so the growth runs use `BankEmbedder`: every generated sentence is drawn
from a bank of template sentences that the real model embeds once, and a generated text is
embedded as the normalised mean of the real vectors of the bank sentences it is made of. The
vectors are therefore in the real model's space (questions, refusals and the answerer behave as
with the real model), and every other text — the shipped documents and every question — is
embedded by the real model itself, so query latency includes the real query embedding. Index
time is reported both as measured and as projected with the real model embedding every text.
"""

from __future__ import annotations

import functools
import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

SEED = 20261122
BANK_SIZE = 600
MODELS = 40  # invented models the bank's sentences are about

_SYLLABLES = ("nor", "vale", "kes", "trel", "ar", "bor", "lum", "ix", "sol", "ven", "tor", "ae")
_FAMILIES = ("Swift", "Medium", "Atlas", "Nimbus", "Forge", "Quill", "Beacon", "Harbor")
_CLOUDS = (
    "its own API",
    "AWS Bedrock",
    "Azure AI Foundry",
    "Google Cloud Vertex",
    "IBM watsonx",
    "OVHcloud AI Endpoints",
    "Scaleway Generative APIs",
    "Snowflake Cortex",
)
_REGIONS = ("Paris", "Frankfurt", "Dublin", "Stockholm", "Milan", "Madrid", "Warsaw", "Virginia")
_LICENCES = (
    "Apache 2.0",
    "MIT",
    "a research-only",
    "a commercial",
    "a modified open-weight",
    "a non-production",
)
_MONTHS = ("January", "March", "May", "June", "September", "November")

_TEMPLATES = (
    "{model} costs ${p_in} per million input tokens and ${p_out} per million output tokens.",
    "Batch requests to {model} are billed at half the list price of ${p_out} per million "
    "output tokens.",
    "{model} is available through {cloud} in the {region} region.",
    "Customers can deploy {model} on premises with a self-hosting licence negotiated per seat.",
    "The identifier {mid} will be retired on {day} {month} {year}, and requests should move "
    "to {next_mid}.",
    "{model} has a context window of {ctx}K tokens and accepts text input only.",
    "{model} accepts text and images and has a context window of {ctx}K tokens.",
    "{model} is released under {licence} licence that the vendor publishes with the weights.",
    "Data sent to {model} is processed in {region} and stays within the European Union.",
    "The service level agreement for {model} promises {sla} percent monthly availability.",
    "Fine-tuning of {model} is offered through {cloud} for enterprise customers only.",
    "Support for {mid} ends {months} months after the release of its successor {next_mid}.",
    "The vendor reports that {model} scores {score} on its internal reasoning benchmark.",
    "Invoices for {model} are issued monthly in euros from the vendor's {region} entity.",
)
_SECTIONS = (
    "Pricing",
    "Deployment",
    "Deprecation",
    "Licensing",
    "Data residency",
    "Service levels",
    "Support",
)


@dataclass(frozen=True)
class SyntheticModel:
    name: str  # "Norvale Atlas 3"
    id: str  # "norvale-atlas-2503"


def models(rng: random.Random) -> list[SyntheticModel]:
    made: dict[str, SyntheticModel] = {}
    while len(made) < MODELS:
        vendor = "".join(rng.choice(_SYLLABLES) for _ in range(2)).capitalize()
        family = rng.choice(_FAMILIES)
        version = rng.randint(1, 5)
        name = f"{vendor} {family} {version}"
        made[name] = SyntheticModel(
            name, f"{vendor.lower()}-{family.lower()}-{rng.randint(23, 27)}{rng.randint(1, 12):02d}"
        )
    return list(made.values())


@functools.lru_cache(maxsize=4)
def bank(seed: int = SEED, size: int = BANK_SIZE) -> list[str]:
    """The template sentences generated documents are made of, distinct and colon-free."""
    rng = random.Random(seed)
    known = models(rng)
    sentences: dict[str, None] = {}
    while len(sentences) < size:
        model, successor = rng.sample(known, 2)
        sentence = rng.choice(_TEMPLATES).format(
            model=model.name,
            mid=model.id,
            next_mid=successor.id,
            p_in=f"{rng.choice((0.1, 0.2, 0.25, 0.4, 0.5, 1, 2, 3)):.2f}",
            p_out=f"{rng.choice((0.3, 0.6, 1, 1.5, 2, 4, 6, 8, 12)):.2f}",
            cloud=rng.choice(_CLOUDS),
            region=rng.choice(_REGIONS),
            day=rng.randint(1, 28),
            month=rng.choice(_MONTHS),
            year=rng.randint(2025, 2028),
            ctx=rng.choice((32, 64, 128, 256)),
            licence=rng.choice(_LICENCES),
            sla=rng.choice(("99.5", "99.9", "99.95")),
            months=rng.choice((3, 6, 12)),
            score=rng.randint(40, 90),
        )
        sentences[sentence] = None
    return list(sentences)


def write_corpus(folder: Path, characters: int, seed: int = SEED) -> int:
    """Markdown documents totalling about `characters`, written to `folder`; how many."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed + 1)
    sentences = bank(seed)
    written = 0
    number = 0
    while written < characters:
        number += 1
        text = _document(rng, sentences, number)
        (folder / f"synthetic_{number:06d}.md").write_text(text, encoding="utf-8")
        written += len(text)
    return number


def write_document(path: Path, characters: int, seed: int = SEED) -> None:
    """One Markdown document of about `characters`, sections of the bank's sentences."""
    rng = random.Random(seed + 2)
    sentences = bank(seed)
    parts: list[str] = []
    written = 0
    while written < characters:
        part = _document(rng, sentences, len(parts) + 1).replace("# ", "## ", 1)
        parts.append(part)
        written += len(part) + 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# {GENERATED} handbook\n\n" + "\n".join(parts), encoding="utf-8")


def _document(rng: random.Random, sentences: list[str], number: int) -> str:
    kind = rng.choice(("price sheet", "deployment guide", "deprecation notice", "fact sheet"))
    lines = [f"# {GENERATED} {kind} number {number}", ""]
    for section in rng.sample(_SECTIONS, rng.randint(3, 6)):
        lines += [f"## {section}", ""]
        for _ in range(rng.randint(2, 5)):
            lines.append(" ".join(rng.choice(sentences) for _ in range(rng.randint(2, 6))))
            lines.append("")
    return "\n".join(lines)


_PIECES = re.compile(r"(?<=\.)\s+|\n")
GENERATED = "Synthetic vendor"  # in the title of every generated document, so in its texts


def _parts(text: str) -> list[str]:
    """The longer runs of words of a text, as they would appear inside a bank sentence."""
    return [p.strip() for p in re.split(r"\n|: ", text) if len(p.strip()) >= 12]


@dataclass
class BankEmbedder(Embeddings):
    """The real model for questions and real documents; bank means for generated text."""

    real: Embeddings
    cache: Path  # the real vectors of the bank and of the shipped texts, kept between runs
    name: str = ""
    dim: int = 0
    embed_seconds: float = 0.0  # spent embedding documents (not questions)
    characters: int = 0  # of document texts embedded
    _vectors: dict[str, np.ndarray] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.name = f"{getattr(self.real, 'name', 'real')}+synthetic-bank"
        self.dim = int(getattr(self.real, "dim", 0))
        if self.cache.exists():
            raw = json.loads(self.cache.read_text(encoding="utf-8"))
            self._vectors = {text: np.asarray(v, dtype=np.float32) for text, v in raw.items()}
        missing = [s for s in bank() if s not in self._vectors]
        if missing:
            self._learn(missing)

    def _learn(self, texts: list[str]) -> None:
        for text, vector in zip(texts, self.real.embed_documents(texts), strict=True):
            self._vectors[text] = np.asarray(vector, dtype=np.float32)
        self.cache.parent.mkdir(parents=True, exist_ok=True)
        self.cache.write_text(
            json.dumps({t: [round(float(x), 6) for x in v] for t, v in self._vectors.items()}),
            encoding="utf-8",
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        started = time.perf_counter()
        vectors: list[list[float] | None] = [self._from_bank(text) for text in texts]
        unknown = [text for text, vector in zip(texts, vectors, strict=True) if vector is None]
        if unknown:
            with self._lock:
                self._learn(list(dict.fromkeys(unknown)))
            vectors = [
                v if v is not None else self._vectors[t].tolist()
                for t, v in zip(texts, vectors, strict=True)
            ]
        self.embed_seconds += time.perf_counter() - started
        self.characters += sum(len(text) for text in texts)
        return [v for v in vectors if v is not None]

    def _from_bank(self, text: str) -> list[float] | None:
        """The bank mean of a generated text; None for a text the real model must embed."""
        if text in self._vectors:
            return self._vectors[text].tolist()
        if GENERATED not in text:
            return None
        found = []
        for piece in _PIECES.split(text):
            piece = piece.strip()
            for candidate in (piece, piece.rsplit(": ", 1)[-1]):
                if candidate in self._vectors:
                    found.append(self._vectors[candidate])
                    break
        if not found:  # only part of a sentence (a chunk cut mid-sentence), or a heading
            found = [v for s, v in self._bank_vectors() if any(p in s for p in _parts(text))]
        if not found:
            found = [v for _, v in self._bank_vectors()]
        mean = np.mean(found, axis=0)
        return (mean / np.linalg.norm(mean)).tolist()

    def _bank_vectors(self) -> list[tuple[str, np.ndarray]]:
        return [(sentence, self._vectors[sentence]) for sentence in bank()]

    def embed_query(self, text: str) -> list[float]:
        return self.real.embed_query(text)
