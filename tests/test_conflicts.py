"""Disagreeing sources, offline: both sides shown with citations, the more reliable first;
two products on one page are not a disagreement."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answering.engine import Engine
from tests.conftest import engine_over


@pytest.mark.parametrize(
    ("question", "sides"),
    [
        ("Are the weights of Mistral Medium 3.1 open or closed?", {"Open weights", "closed"}),
        (
            "Are the weights of Mistral Medium 3 openly available?",
            {"Open weights", "Proprietary"},
        ),
        ("Is Mistral Medium 3 multimodal or text-only?", {"multimodal", "text-only"}),
        ("What is the context window of Mistral Medium 3.1?", {"128K", "131K"}),
        ("When was Mistral Medium 3.1 released?", {"2025-08-12", "2025-08-13"}),
    ],
)
def test_conflicts_list_both_sides_with_citations(
    engine: Engine, question: str, sides: set[str]
) -> None:
    answer = engine.ask(question)
    (conflict,) = answer.conflicts
    assert {claim.claim for claim in conflict.claims} == sides
    numbers = {c.n for c in answer.citations}
    assert all(claim.n in numbers for claim in conflict.claims), "no claim points nowhere"
    assert "disagree" in answer.answer
    for claim in conflict.claims:
        assert f"[{claim.n}]" in answer.answer


def test_vendor_documentation_is_listed_first(engine: Engine) -> None:
    answer = engine.ask("Is Mistral Medium 3 multimodal or text-only?")
    (conflict,) = answer.conflicts
    first = next(c for c in answer.citations if c.n == conflict.claims[0].n)
    assert (conflict.claims[0].claim, first.kind) == ("multimodal", "vendor-docs")
    assert conflict.topic == "multimodal or text-only", "a topic people can read, no key"


def test_a_side_is_led_by_a_sentence_on_the_very_version_asked(engine: Engine) -> None:
    """A newer row about "Medium 3.1" once led the answer to a question about "Medium 3"."""
    answer = engine.ask("Are the weights of Mistral Medium 3 open?")
    (conflict,) = answer.conflicts
    first = next(c for c in answer.citations if c.n == conflict.claims[0].n)
    assert "Mistral Medium 3 " in first.quote and "3.1" not in first.quote


def test_a_question_on_one_topic_shows_no_other_conflict(engine: Engine) -> None:
    answer = engine.ask("Which clouds offer Mistral Medium 3.1?")
    assert answer.conflicts == ()


def test_community_citations_are_labelled_opinion(engine: Engine) -> None:
    answer = engine.ask("Does BNP Paribas run Mistral models on-prem?")
    community = [c for c in answer.citations if c.kind == "community"]
    assert community and all(c.opinion for c in community)
    assert not any(c.opinion for c in answer.citations if c.kind != "community")


VENDOR_MD = """# Orca models

## Orca Pro 3

Orca Pro 3 accepts text and images as input.

- **Context window:** 200K tokens
- **License:** Proprietary

## Orca Lite 2

Orca Lite 2 has a 32K context window.

- **License:** Open weights (Apache 2.0)
"""

NEWS_MD = """# Orca Pro 3 arrives

Orca Pro 3 is text-only at launch, the vendor said on March 3, 2025.
"""


@pytest.fixture(scope="module")
def orca(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """An invented vendor's page about two products and a news item about one of them."""
    catalog = (
        '[documents."vendor.md"]\ntitle = "Orca models"\nkind = "vendor-docs"\n'
        '[documents."news.md"]\ntitle = "Orca Pro 3 arrives"\nkind = "news"\n'
    )
    files = {"vendor.md": VENDOR_MD, "news.md": NEWS_MD, "catalog.toml": catalog}
    return engine_over(tmp_path_factory.mktemp("orca-conflicts"), files)


def test_text_and_images_against_text_only_is_a_conflict(orca: Engine) -> None:
    answer = orca.ask("Does Orca Pro 3 accept images?")
    (conflict,) = answer.conflicts
    cited = {c.n: c for c in answer.citations}
    said = [(claim.claim, Path(cited[claim.n].source).name) for claim in conflict.claims]
    assert said == [("text and images", "vendor.md"), ("text-only", "news.md")]


@pytest.mark.parametrize(
    ("question", "other_value"),
    [
        ("What is the context window of Orca Lite 2?", "200K"),
        ("What is the license of Orca Pro 3?", "Open weights"),
        ("Which license does Orca Lite 2 have?", "Proprietary"),
    ],
)
def test_two_products_on_one_page_are_not_a_conflict(
    orca: Engine, question: str, other_value: str
) -> None:
    answer = orca.ask(question)
    assert answer.grounded
    assert answer.conflicts == ()
    assert other_value not in answer.answer


KESTREL_VENDOR = """# Kestrel Atlas 1

Kestrel Atlas 1 was released on June 1, 2024.

Kestrel Atlas 1 is available in the EU and US regions.

Kestrel Atlas 1 supports function calling.
"""

KESTREL_NEWS = """# Kestrel news

Kestrel Atlas 1 was announced on May 2, 2024 and will be released in June.

Kestrel Atlas 1 is not available in China.

Kestrel Atlas 1 supports function calling, but Kestrel Swift 2 does not support function calling.
"""


@pytest.fixture(scope="module")
def kestrel(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    files = {"vendor.md": KESTREL_VENDOR, "news.md": KESTREL_NEWS}
    return engine_over(tmp_path_factory.mktemp("kestrel-conflicts"), files)


@pytest.mark.parametrize(
    "question",
    [
        "When was Kestrel Atlas 1 released?",  # the announcement's date is not a release date
        "Is Kestrel Atlas 1 available in the EU?",  # China is another place
        "Does Kestrel Atlas 1 support function calling?",  # a comparison names both sides
    ],
)
def test_what_a_newcomer_once_read_as_a_conflict_is_none(kestrel: Engine, question: str) -> None:
    answer = kestrel.ask(question)
    assert answer.grounded
    assert answer.conflicts == (), answer.answer
