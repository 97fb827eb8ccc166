from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.settings import PROJECT_ROOT
from index.documents import scan_corpus
from index.sentences import (
    ITEM,
    MAX_QUOTE_CHARS,
    MAX_ROW_CHARS,
    ROW,
    SENTENCE,
    split_sentences,
)
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
    path = "Mistral Medium › Pricing Information"
    assert found == [
        ("**Input:** $0.4 per million tokens", path),
        ("**Output:** $2 per million tokens", path),
        ("It was retired on June 16, 2025.", path),
        ("Use the new one.", path),
    ]


def test_every_sentence_of_the_corpus_is_verbatim_and_short_enough() -> None:
    for document in scan_corpus(PROJECT_ROOT / "corpus").documents:
        sentences = split_sentences(document)
        assert len(sentences) > 5, document.source
        for sentence in sentences:
            quote = document.text[sentence.start : sentence.end]
            assert quote == quote.strip() and quote
            assert len(quote) <= (MAX_ROW_CHARS if sentence.kind == ROW else MAX_QUOTE_CHARS)
            assert "\n\n" not in quote


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=2000))
def test_sentence_spans_are_ordered_and_inside_the_text(text: str) -> None:
    previous_end = 0
    for sentence in split_sentences(make_document(text)):
        assert previous_end <= sentence.start < sentence.end <= len(text)
        quote = text[sentence.start : sentence.end]
        assert quote == quote.strip()
        if sentence.lead_start >= 0:
            assert sentence.lead_end <= sentence.start
        previous_end = sentence.end


def _units(text: str) -> list[tuple[str, str, str]]:
    """(kind, quote, lead) of every unit of a Markdown text."""
    return [
        (
            s.kind,
            text[s.start : s.end],
            text[s.lead_start : s.lead_end] if s.lead_start >= 0 else "",
        )
        for s in split_sentences(make_document(text))
    ]


def test_a_hard_wrapped_sentence_is_one_unit_across_its_line_break() -> None:
    text = (
        "# Terms\n\n"
        "The vendor keeps prompts for thirty days in the region where the resource\n"
        "is deployed, and deletes them afterwards. A second sentence follows here.\n"
    )
    assert [quote for _, quote, _ in _units(text)] == [
        "The vendor keeps prompts for thirty days in the region where the resource\n"
        "is deployed, and deletes them afterwards.",
        "A second sentence follows here.",
    ]


def test_lines_of_a_document_of_long_lines_are_never_joined() -> None:
    long = "This post is a single long line of a forum thread, " * 3
    text = f"{long.strip()}\nanother post starts in lower case and is its own unit here.\n"
    assert len(_units(text)) == 2


def test_abbreviations_do_not_end_a_sentence() -> None:
    text = (
        "Hosting costs approx. 5 EUR per hour, e.g. for batch jobs. Die Daten, z. B. Prompts, "
        "werden gespeichert. Dr. Smith signed the addendum.\n"
    )
    assert [quote for _, quote, _ in _units(text)] == [
        "Hosting costs approx. 5 EUR per hour, e.g. for batch jobs.",
        "Die Daten, z. B. Prompts, werden gespeichert.",
        "Dr. Smith signed the addendum.",
    ]


def test_list_items_keep_their_lead_in_and_table_rows_their_header() -> None:
    text = (
        "---\ntitle: Prices\ndate: 2026-01-05\n---\n"
        "import Tabs from '@site/tabs'\n\n"
        "# Prices\n\n<Tabs>\n"
        "The following endpoints are available:\n"
        "- `/v1/chat` for chat completions\n"
        "- `/v1/embeddings` for embeddings\n\n"
        "| Product | Input | Output |\n|:--|--:|--:|\n"
        "| Orca Pro | 1.00 | 7.20 |\n| Orca Lite | 0.10 | 0.40 |\n\n"
        "</Tabs>\n"
    )
    header = "| Product | Input | Output |"
    assert _units(text) == [
        (SENTENCE, "The following endpoints are available:", ""),
        (ITEM, "`/v1/chat` for chat completions", "The following endpoints are available:"),
        (ITEM, "`/v1/embeddings` for embeddings", "The following endpoints are available:"),
        (ROW, "| Orca Pro | 1.00 | 7.20 |", header),
        (ROW, "| Orca Lite | 0.10 | 0.40 |", header),
    ]


def test_a_table_without_a_header_row_has_rows_only() -> None:
    text = "| License | Proprietary |\n| Context | 32K tokens |\n"
    assert _units(text) == [
        (ROW, "| License | Proprietary |", ""),
        (ROW, "| Context | 32K tokens |", ""),
    ]


def test_setext_headings_tables_without_outer_pipes_and_nested_items() -> None:
    text = (
        "Prices\n======\n\n"
        "Model | Input | Output\n--- | --- | ---\nOrca Pro | 1.00 | 7.20\n\n"
        "Regions\n-------\n\n"
        "The service runs in these regions:\n"
        "- Europe\n  - Sweden Central\n  - France Central\n- United States\n  - East US\n\n"
        "| Tier | 2024 | 2025 |\n|---|---|---|\n| Basic | yes | no |\n"
    )
    lead = "The service runs in these regions:"
    assert _units(text) == [
        (ROW, "Orca Pro | 1.00 | 7.20", "Model | Input | Output"),
        (SENTENCE, lead, ""),
        (ITEM, "Europe", lead),
        (ITEM, "Sweden Central", "Europe"),
        (ITEM, "France Central", "Europe"),
        (ITEM, "United States", lead),
        (ITEM, "East US", "United States"),
        (ROW, "| Basic | yes | no |", "| Tier | 2024 | 2025 |"),
    ]
    headings = [u.heading for u in split_sentences(make_document(text))]
    assert headings[0] == "Prices" and headings[-1] == "Prices › Regions"


def test_a_lazy_item_line_and_a_one_dash_delimiter_row() -> None:
    text = (
        "Intro list:\n- First item.\n- Second item continues on\nthe next line lazily.\n\n"
        "Model|Context\n-|-\nSwift 2|64K\n"
    )
    assert _units(text) == [
        (ITEM, "First item.", "Intro list:"),
        (ITEM, "Second item continues on\nthe next line lazily.", "Intro list:"),
        (ROW, "Swift 2|64K", "Model|Context"),
    ]


def test_display_maths_is_markup_never_a_quote() -> None:
    text = (
        "The training cost is the hours times the hourly rate.\n\n"
        "$$\n\\text{Total cost} = 4 \\times 100 = \\$400\n$$\n\n"
        "$$ x = 2 $$\n\n"
        "Hosting is billed per hour as well.\n"
    )
    assert [quote for _, quote, _ in _units(text)] == [
        "The training cost is the hours times the hourly rate.",
        "Hosting is billed per hour as well.",
    ]
