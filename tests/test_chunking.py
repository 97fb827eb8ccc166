from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.settings import PROJECT_ROOT
from index.chunking import CHUNK_SIZE, chunk_document
from index.documents import scan_corpus
from tests.conftest import make_document


def test_every_chunk_of_the_corpus_is_its_exact_span() -> None:
    for document in scan_corpus(PROJECT_ROOT / "corpus").documents:
        chunks = chunk_document(document)
        assert chunks, document.source
        for chunk in chunks:
            assert document.text[chunk.start : chunk.end] == chunk.text
            assert len(chunk.text) <= CHUNK_SIZE
            assert chunk.n_chunks == len(chunks)
        covered = set().union(*(range(c.start, c.end) for c in chunks))
        non_space = {i for i, ch in enumerate(document.text) if not ch.isspace()}
        assert non_space <= covered, "text outside every chunk would never be found"


def test_chunks_carry_the_heading_above_them() -> None:
    text = "# Guide\n\n## Pricing Information\n\n" + "Input costs $1 per token. " * 60
    chunks = chunk_document(make_document(text))
    assert len(chunks) > 1
    assert chunks[-1].heading == "Pricing Information"
    assert "Pricing Information" in chunks[-1].embedding_text()


def test_chunk_ids_change_with_the_content() -> None:
    first = chunk_document(make_document("Some text."))[0]
    changed = chunk_document(replace(make_document("Some text."), sha256="1" * 64))[0]
    assert first.id != changed.id


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=3000))
def test_chunk_spans_are_verbatim_for_any_text(text: str) -> None:
    for chunk in chunk_document(make_document(text)):
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text.strip()


def _langchain_pieces(text: str) -> list[str]:
    """LangChain's recursive splitter with our settings: the algorithm chunk_document follows."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from index.chunking import CHUNK_OVERLAP, CHUNK_SIZE, SEPARATORS

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_SIZE,
        chunk_overlap=CHUNK_OVERLAP,
        separators=SEPARATORS,
        keep_separator="start",
        strip_whitespace=True,
    )
    return [piece for piece in splitter.split_text(text) if piece.strip()]


def assert_langchains_pieces(chunks: list[str], pieces: list[str]) -> None:
    """The chunks are LangChain's pieces, less any piece that lies inside the one before it
    (a tail of white space stripped back to the overlap): such a piece is a suffix of it."""
    kept = iter(chunks)
    expected = next(kept, None)
    previous = ""
    for piece in pieces:
        if piece == expected:
            previous, expected = piece, next(kept, None)
        else:
            assert previous.endswith(piece), (piece[:60], expected and expected[:60])
    assert expected is None, f"a chunk LangChain does not make: {expected[:60]!r}"


@pytest.mark.parametrize(
    "path", sorted((PROJECT_ROOT / "corpus").glob("*.txt")), ids=lambda p: p.name
)
def test_chunks_are_langchains_recursive_split_with_their_places(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    chunks = chunk_document(make_document(text))
    assert_langchains_pieces([c.text for c in chunks], _langchain_pieces(text))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["# Pricing\n", "\n\n", "Input costs $2. ", "word ", "\n", "Données, ", "x" * 300]
        ),
        max_size=80,
    ).map("".join)
)
def test_chunks_match_langchain_on_generated_text(text: str) -> None:
    chunks = [c.text for c in chunk_document(make_document(text))]
    assert_langchains_pieces(chunks, _langchain_pieces(text))


def test_a_chunk_inside_the_one_before_is_dropped() -> None:
    text = "0" * 3512 + "\t\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029"
    chunks = chunk_document(make_document(text))
    pieces = _langchain_pieces(text)
    assert len(pieces) == len(chunks) + 1 and pieces[-1] == "0" * 112
    assert [(c.start, c.end) for c in chunks][-2:] == [(2040, 2840), (2720, 3512)]
    assert_langchains_pieces([c.text for c in chunks], pieces)
