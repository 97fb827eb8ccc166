"""Questions that ask for a value about one model are answered only with that model's value."""

from __future__ import annotations

import pytest

from bot.answering.engine import Engine
from bot.answering.facts.entities import families, family_counts, learn_aliases, models_named
from bot.answering.facts.grounding import needs


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("What does Mistral Large 3 cost?", ["price"]),
        ("Quel est le prix de Medium 3 ?", ["price"]),
        ("How long is the context window of Medium 3.5?", ["context size", "duration"]),
        ("How long are prompts kept before they are deleted?", ["duration"]),
        ("What refund percentage applies if we cancel?", ["percentage"]),
        ("Does the Standard offer come with a latency SLA?", []),  # yes or no: no value asked
        ("Which model ID should we use?", ["model id"]),
        ("How many employees does Mistral have?", ["count"]),
        ("Who is the CEO of Mistral AI?", ["person"]),
        ("What uptime SLA is guaranteed?", ["service level (uptime guarantee)"]),
        ("Is Medium 3 multimodal?", []),
    ],
)
def test_needs(question: str, kinds: list[str]) -> None:
    assert [need.kind for need in needs(question)] == kinds


@pytest.mark.parametrize(
    "question",
    [
        "What does Mistral Large 3 cost per million input tokens?",
        "What is the per-token price of Mistral Medium 3.5?",
        "How many employees does Mistral AI have?",
        "Who is the CEO of Mistral AI?",
    ],
)
def test_a_value_no_source_gives_is_not_answered(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert not answer.grounded and answer.citations == ()
    assert answer.notices and answer.notices[0].startswith("No source gives the")


def test_model_ids_and_names_are_aliases_learnt_from_the_text() -> None:
    aliases = learn_aliases(
        [
            "`mistral-medium-2505` - Mistral Medium 3 (current version)",
            "Mistral Medium (2023) was later tagged as mistral-medium-2312. Then Medium 3 came.",
        ],
        frozenset({"medium"}),
    )
    assert aliases[("medium", "2505")] == {("medium", "3")}
    assert aliases[("medium", "2312")] == {("medium", "2023")}


def test_a_price_asked_by_model_id_is_answered_through_its_alias(engine: Engine) -> None:
    answer = engine.ask("What is the input token rate for mistral-medium-2505?")
    assert answer.grounded
    assert "$0.4" in answer.citations[0].quote


def test_a_year_before_the_name_is_the_version(engine: Engine) -> None:
    answer = engine.ask("How large was the context window of the original 2023 Mistral Medium?")
    assert any("32K" in c.quote for c in answer.citations)
    assert "128K" not in answer.answer and "131K" not in answer.answer
    assert answer.conflicts == (), "other versions' windows are not a disagreement"


def test_product_families_are_learnt_from_the_documents() -> None:
    texts = [
        "Orca Pro 3 replaces Orca Pro (2023). The orca-lite-2405 id is Orca Lite 2.",
        "Version 3 of the API is in tier 2 of 4. The pro plan costs EUR 20. On June 16 we ship.",
    ]
    assert families([family_counts(texts)]) == {"pro", "lite"}
    known = frozenset({"pro", "lite"})
    assert models_named("What does Orca Pro 3 cost next to orca-lite-2405?", known) == {
        ("pro", "3"),
        ("lite", "2405"),
    }
    assert models_named("a pro plan", known) == frozenset()  # a bare family is capitalised
    parts = ["Article 28 GDPR and Annex 2 apply to Tier 1 and Level 2. Orca Pro 3 is out."]
    assert families([family_counts(parts)]) == {"pro"}  # numbered parts name no product
