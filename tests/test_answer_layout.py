"""The answer's own structure renders (bullets, nesting, bold results, opinion marks) in every
output, while what it quotes stays as the document wrote it (its own bold shown as bold)."""

from __future__ import annotations

from pathlib import Path

import docx
from markdown_it import MarkdownIt

from bot.answering.answers import Answer, Citation
from bot.answering.layout import (
    BOLD,
    MARKER,
    QUOTE,
    TEXT,
    as_markdown,
    as_plain_text,
    escape,
    lines,
    markdown,
)
from bot.transcripts.docx import _answer_text
from ui.render import answer_markdown, model_line

PRICE = "**Output:** $2 per million tokens"
MATHS = "$$ cost = tokens × rate $$ applies"
POST = "Honestly, the EU region felt slower than the US one"
TEXT_OF_ANSWER = (
    "The documents say:\n\n"
    f"- {PRICE} [1]\n"
    f"  - {MATHS} [2]\n"
    f"- {POST} [3]\n\n"
    "Current model ids named by the sources: `orca-pro-latest` [1]\n\n"
    "Estimate from the cited prices:\n"
    "- total: 20,000,000 tokens / 1,000,000 × USD 2.00 [1] = **USD 40.00**"
)


def _citation(n: int, quote: str, opinion: bool = False) -> Citation:
    return Citation(n, "docs/a.md", "A", "community" if opinion else "vendor-docs", None,
                    quote, 0, len(quote), "0" * 64, "k:0", opinion)  # fmt: skip


ANSWER = Answer(
    question="What does it cost?",
    answer=TEXT_OF_ANSWER,
    backend="extractive",
    model="extractive (multilingual-e5-small-q4)",
    grounded=True,
    citations=(_citation(1, PRICE), _citation(2, MATHS), _citation(3, POST, opinion=True)),
)


def test_quotes_are_found_apart_from_the_answerers_own_markup() -> None:
    read = lines(TEXT_OF_ANSWER, {1: PRICE, 2: MATHS, 3: POST})
    items = [line for line in read if line.bullet]
    assert [line.depth for line in items] == [0, 1, 0, 0]
    assert [(s.text, s.style, s.strong) for s in items[0].spans] == [
        ("Output:", QUOTE, True),  # the document's own bold, read inside the quote only
        (" $2 per million tokens", QUOTE, False),
        (" ", TEXT, False),
        ("1", MARKER, False),
    ]
    assert [s.style for s in items[1].spans][:1] == [QUOTE]  # "$$" is no markup of ours
    assert (items[3].spans[-1].text, items[3].spans[-1].style) == ("USD 40.00", BOLD)


def test_the_chat_and_the_markdown_render_structure_and_keep_quotes_inert() -> None:
    for written in (as_markdown(ANSWER), answer_markdown(ANSWER)):
        page = MarkdownIt("commonmark").render(written)
        assert page.count("<ul>") == 3 and page.count("<li>") == 4  # a list nested in the first
        assert "<strong>USD 40.00</strong>" in page
        assert "<strong>Output:</strong> $2 per million tokens" in page
        assert "**" not in page.split("<details>")[0]  # the answer shows no asterisks
        assert "$$ cost = tokens × rate $$ applies" in page and "\\$" not in page
        assert "[3] (<em>opinion</em>)" in page  # a community quote marked where it is used
        assert "\\-" not in page and "\\*" not in page
        assert "<code>orca-pro-latest</code> [1]" in page  # our own code span, an id


def test_a_spreadsheet_cell_and_a_word_document_show_no_markup_characters(tmp_path: Path) -> None:
    cell = as_plain_text(ANSWER)
    assert "• Output: $2 per million tokens [1]" in cell
    assert "  • $$ cost" in cell and "= USD 40.00" in cell and "[3] (opinion)" in cell
    assert "**" not in cell and "\n- " not in cell and "`" not in cell
    document = docx.Document()
    _answer_text(document, ANSWER)
    path = tmp_path / "a.docx"
    document.save(str(path))
    paragraphs = docx.Document(str(path)).paragraphs
    assert [p.style.name for p in paragraphs if p.style is not None] == [
        "Normal", "List Bullet", "List Bullet 2", "List Bullet", "Normal", "Normal", "List Bullet",
    ]  # fmt: skip
    assert [run.text for run in paragraphs[1].runs if run.bold] == ["Output:"]
    total = paragraphs[-1]
    assert [run.text for run in total.runs if run.bold] == ["USD 40.00"]
    assert total.text == "total: 20,000,000 tokens / 1,000,000 × USD 2.00 [1] = USD 40.00"


def test_the_model_line_names_the_backend_once() -> None:
    assert model_line(ANSWER) == "extractive (multilingual-e5-small-q4)"
    assert model_line(Answer("q", "a", "mistral", "mistral-medium-latest", True)) == (
        "mistral-medium-latest"
    )
    assert model_line(Answer("q", "a", "mistral", "medium-3", True)) == "mistral · medium-3"


def _page(text: str, quotes: dict[int, str], opinions: frozenset[int] = frozenset()) -> str:
    return MarkdownIt("commonmark").render(markdown(lines(text, quotes), opinions))


def test_a_models_free_text_keeps_its_markers_lists_and_bold() -> None:
    """What a Mistral answer writes: adjacent markers, bold around a quote, uneven nesting, a
    line after a list."""
    page = _page("See [1][2] and [3]and", {}, frozenset({1, 2, 3}))
    assert "[1] (<em>opinion</em>)[2] (<em>opinion</em>)" in page
    assert "[3] (<em>opinion</em>)and" in page
    assert "<li><strong>Total: USD 40.00</strong> [1]</li>" in _page(
        "- **Total: USD 40.00** [1]", {1: "Total: USD 40.00"}
    )
    nested = _page("- a\n      - deep\n- b", {})
    assert nested.count("<ul>") == 2 and "<li>deep</li>" in nested  # one level deeper, at most
    after = _page("- item [1]\nTotal: 4 EUR", {})
    assert "<li>item [1]</li>" in after and "<p>Total: 4 EUR</p>" in after
    assert "[x][y]" in MarkdownIt("commonmark").render(escape("[x][y] [2]: https://x.example"))


def test_addresses_in_a_quote_are_text_not_links() -> None:
    """GFM renderers (the chat's, GitHub's) link bare addresses; a quote's never become one."""
    written = escape("See https://evil.example/x, www.evil.example or sales@evil.example.")
    assert "https://" not in written and "www." not in written and "s@e" not in written
    assert MarkdownIt("commonmark").render(written) == (
        "<p>See https://evil.example/x, www.evil.example or sales@evil.example.</p>\n"
    )
