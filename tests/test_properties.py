"""Properties of the chunker, the sentence splitter and the citation verifier on any text.

The texts mix what real documents hold and what breaks naive code: right-to-left scripts,
emoji and joiners, combining marks, CRLF line ends, control characters (never NUL: a loader
refuses it), lines far longer than a chunk, Markdown headings and repeated passages.
"""

from __future__ import annotations

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from bot.answering.verify import locate
from index.chunking import chunk_document
from index.sentences import split_sentences
from tests.conftest import make_document

# Any character a decoded document can hold: no NUL, no lone surrogate.
CHARACTERS = st.characters(codec="utf-8", exclude_characters="\x00")
FRAGMENTS = [
    "# Pricing\n",
    "\n## Mistral Medium 3 — Tarifs\n",
    "\r\n",
    "\r\n\r\n",
    "\n\n",
    "Input costs $0.4 per million tokens. ",
    "Les données restent dans l'UE. ",
    "السعر ٢ دولار لكل مليون رمز. ",  # Arabic, right to left
    "המחיר הוא 2 דולר. ",  # Hebrew
    "\u202eRTL override\u202c ",
    "👩‍👩‍👧 🇪🇺 🤖 ",  # emoji with zero-width joiners and flags
    "e\u0301 a\u0308\u0323 ",  # combining marks
    "\t\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029",  # control and Unicode line breaks
    "- **Output:** $2 per million tokens\n",
    "İstanbul ﬁle ß ",  # characters whose lower case is longer
    "“quoted” ‘text’ – — \u00a0",
    "   ",
]
LONG_LINES = st.builds(
    lambda piece, times: piece * times,
    st.text(CHARACTERS, min_size=1, max_size=6),
    st.integers(1, 500),
)
TEXTS = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(CHARACTERS, max_size=60), LONG_LINES),
    max_size=40,
).map("".join)


def _non_space(text: str) -> set[int]:
    return {i for i, ch in enumerate(text) if not ch.isspace()}


@settings(max_examples=120, deadline=None)
@given(TEXTS)
@example("x" * 801 + " " + "x" * 801)
@example("ab. " * 400)
@example("\r\n".join(["# Title", "", "a" * 900, "b" * 10]))
@example("0" * 3512 + "\t\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029")  # a tail of white space
def test_chunks_are_verbatim_in_order_and_cover_every_visible_character(text: str) -> None:
    document = make_document(text)
    chunks = chunk_document(document)
    covered: set[int] = set()
    for i, chunk in enumerate(chunks):
        assert document.text[chunk.start : chunk.end] == chunk.text
        assert chunk.text.strip() and chunk.index == i and chunk.n_chunks == len(chunks)
        if i:
            assert chunks[i - 1].start < chunk.start and chunks[i - 1].end < chunk.end
        covered.update(range(chunk.start, chunk.end))
    assert _non_space(text) <= covered


@settings(max_examples=150, deadline=None)
@given(TEXTS)
@example("Is it on-prem?\r\nIt runs on two GPUs and costs $2.\r\n")
@example("   Indented line with 12 words and a price of $3 per token.  ")
@example("\u202eRTL override\u202c 0\r# Pricing\n")
@example("Old Mac lines end in CR: 1\rSo do these: 2\u2028and this: 3")
def test_units_are_verbatim_trimmed_spans_of_one_paragraph_in_order(text: str) -> None:
    previous_end = 0
    for sentence in split_sentences(make_document(text)):
        assert previous_end <= sentence.start < sentence.end <= len(text)
        quote = text[sentence.start : sentence.end]
        assert quote == quote.strip()
        # a hard-wrapped sentence spans its lines, never a blank line between paragraphs
        assert all(line.strip() for line in quote.splitlines())
        previous_end = sentence.end


def _fold(text: str) -> str:
    """What locate compares: equivalent quotes and dashes folded, white space collapsed, and
    each character lower-cased where that keeps it one character."""
    folded = text.translate(
        str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
    )
    lowered = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in folded)
    return " ".join(lowered.split())


def _core(quote: str) -> str:
    """The quote without the marks and ellipsis a model puts around it."""
    trim = " \t\n\"'“”‘’«».…"
    return _fold(quote.strip(trim).removesuffix("...").strip(trim))


PASSAGES = TEXTS.filter(lambda text: len(text.strip()) >= 8)


# How a model's copy of a quote differs from the source.
RETYPINGS = [
    str.upper,
    str.lower,
    lambda q: q.replace("'", "’").replace('"', "“"),
    lambda q: q.replace("-", "–"),
    lambda q: q.replace(" ", " \n  "),
    lambda q: f"“{q}…”",
    lambda q: f"{q}...",
]


@st.composite
def quotes(draw: st.DrawFn, passage: str) -> str:
    """Random text, or a part of the passage as a model might retype it."""
    if draw(st.booleans()):
        return draw(st.text(CHARACTERS, max_size=80))
    start = draw(st.integers(0, len(passage) - 1))
    quote = passage[start : draw(st.integers(start + 1, len(passage)))]
    for retype in draw(st.lists(st.sampled_from(RETYPINGS), max_size=3)):
        quote = retype(quote)
    return quote


@settings(max_examples=200, deadline=None)
@given(PASSAGES.flatmap(lambda passage: st.tuples(st.just(passage), quotes(passage))))
@example(("İstanbul costs $2 per token", "costs $2 per token"))
@example(("İİİİ costs $2 per token", "COSTS $2 PER TOKEN"))
@example(("ß ß ß Data stays in the EU", "data stays in the eu"))
def test_a_span_found_is_the_quote_in_the_passage(case: tuple[str, str]) -> None:
    passage, quote = case
    span = locate(quote, passage)
    if span is not None:
        start, end = span
        assert 0 <= start < end <= len(passage)
        assert _fold(passage[start:end]) == _core(quote)


@settings(max_examples=200, deadline=None)
@given(PASSAGES, st.data())
@example("İstanbul costs $2 per token", None)
def test_every_part_of_the_passage_is_found(passage: str, data: st.DataObject | None) -> None:
    if data is None:  # the explicit example: a span after a character that lowers to two
        start, end = 9, len(passage)
    else:
        start = data.draw(st.integers(0, len(passage) - 1))
        end = data.draw(st.integers(start + 1, len(passage)))
    quote = passage[start:end]
    assume(len(_core(quote)) >= 8)
    span = locate(quote, passage)
    assert span is not None
    assert _fold(passage[span[0] : span[1]]) == _core(quote)
    # Quotation marks and an ellipsis around the quote change nothing.
    assert locate(f"“{quote}…”", passage) == span


FOREIGN = "§¤¶@#%&*+=~^|¬¿"


@settings(max_examples=200, deadline=None)
@given(PASSAGES, st.data())
def test_a_quote_with_a_character_not_in_the_passage_is_never_found(
    passage: str, data: st.DataObject
) -> None:
    absent = [ch for ch in FOREIGN if ch not in passage]
    assume(absent)
    foreign = data.draw(st.sampled_from(absent))
    start = data.draw(st.integers(0, len(passage) - 1))
    end = data.draw(st.integers(start, len(passage)))
    cut = data.draw(st.integers(start, end))
    quote = f"{passage[start:cut]}{foreign}{passage[cut:end]}"
    assume(foreign in _core(quote))
    assert locate(quote, passage) is None
