"""Disagreeing sources, offline: both sides shown with citations, the more reliable first."""

from __future__ import annotations

import pytest

from bot.answering.engine import Engine


@pytest.mark.parametrize(
    ("question", "topic", "sides"),
    [
        (
            "Are the weights of Mistral Medium 3.1 open or closed?",
            "weights-open-or-closed",
            {"open weights", "closed weights (proprietary)"},
        ),
        (
            "Can we download the Medium 3 weights?",
            "weights-open-or-closed",
            {"open weights", "closed weights (proprietary)"},
        ),
        ("Is Mistral Medium 3 multimodal?", "multimodal-or-text-only", {"multimodal", "text-only"}),
        (
            "What is the context window of Mistral Medium 3.1?",
            "context-window",
            {"128K tokens", "131K tokens"},
        ),
        ("When was Mistral Medium 3.1 released?", "release-date-3.1", {"2025-08-12", "2025-08-13"}),
    ],
)
def test_conflicts_list_both_sides_with_citations(
    engine: Engine, question: str, topic: str, sides: set[str]
) -> None:
    answer = engine.ask(question)
    (conflict,) = [c for c in answer.conflicts if c.topic == topic]
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


def test_a_question_on_one_topic_shows_no_other_conflict(engine: Engine) -> None:
    answer = engine.ask("Which clouds offer Mistral Medium 3.1?")
    assert answer.conflicts == ()


def test_community_citations_are_labelled_opinion(engine: Engine) -> None:
    answer = engine.ask("Does BNP Paribas run Mistral models on-prem?")
    community = [c for c in answer.citations if c.kind == "community"]
    assert community and all(c.opinion for c in community)
    assert not any(c.opinion for c in answer.citations if c.kind != "community")
