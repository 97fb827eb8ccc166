from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.settings import PROJECT_ROOT
from index.documents import scan_corpus
from index.sentences import MAX_QUOTE_CHARS, split_sentences
from tests.conftest import make_document


def test_sentences_drop_list_marks_and_keep_their_heading() -> None:
    text = (
        "# Mistral Medium\n\n## Pricing Information\n\n"
        "- **Input:** $0.4 per million tokens\n"
        "1. **Output:** $2 per million tokens\n"
        "Is it still available? No. It was retired on June 16, 2025. Use the new one.\n"
        "License — Plain-English Summary\n"
    )
    found = [(text[s.start : s.end], s.heading) for s in split_sentences(make_document(text))]
    assert found == [
        ("**Input:** $0.4 per million tokens", "Pricing Information"),
        ("**Output:** $2 per million tokens", "Pricing Information"),
        ("It was retired on June 16, 2025.", "Pricing Information"),
        ("Use the new one.", "Pricing Information"),
    ]


def test_every_sentence_of_the_corpus_is_verbatim_and_short_enough() -> None:
    for document in scan_corpus(PROJECT_ROOT / "corpus").documents:
        sentences = split_sentences(document)
        assert len(sentences) > 5, document.source
        for sentence in sentences:
            quote = document.text[sentence.start : sentence.end]
            assert quote == quote.strip() and quote
            assert len(quote) <= MAX_QUOTE_CHARS
            assert "\n" not in quote


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=2000))
def test_sentence_spans_are_ordered_and_inside_the_text(text: str) -> None:
    previous_end = 0
    for sentence in split_sentences(make_document(text)):
        assert previous_end <= sentence.start < sentence.end <= len(text)
        assert "\n" not in text[sentence.start : sentence.end]
        previous_end = sentence.end
