"""Answers of the offline engine over the shipped corpus: facts, citations, refusals."""

from __future__ import annotations

import pytest

from bot.answering.answers import Answer
from bot.answering.engine import Engine
from bot.settings import PROJECT_ROOT

PRICE_SOURCES = {"corpus/002_f67bddd3a88b2c10.txt", "corpus/004_910b252cb6477a8d.txt"}

# question, a fact one quote must contain, the sources that quote may come from
ANSWERABLE = [
    ("What does Mistral Medium 3 cost per million output tokens?", "$2 per million", PRICE_SOURCES),
    ("How much is Mistral Medium 3 per million input tokens?", "$0.4", PRICE_SOURCES),
    (
        "Can Mistral Medium 3 be self-hosted, and on how many GPUs?",
        "GPUs",
        {"corpus/004_910b252cb6477a8d.txt"},
    ),
    ("Which clouds offer Mistral Medium 3.1?", "Bedrock", {"corpus/002_f67bddd3a88b2c10.txt"}),
    ("When was mistral-medium-2312 retired?", "June 16, 2025", {"corpus/001_72ad3820649f10bd.txt"}),
    (
        "Does BNP Paribas run Mistral models on-prem?",
        "BNP Paribas runs Mistral models on-prem",
        {"corpus/003_fd62f072a622793a.txt"},
    ),
    ("Combien coûte Mistral Medium 3 par million de jetons de sortie ?", "$2", PRICE_SOURCES),
    (
        "Kann man Mistral Medium 3 selbst hosten?",
        "Self-hosted",
        {"corpus/004_910b252cb6477a8d.txt"},
    ),
    ("Quali cloud offrono Mistral Medium 3.1?", "Azure", {"corpus/002_f67bddd3a88b2c10.txt"}),
    (
        "¿Está obsoleto el modelo mistral-medium-2312?",
        "deprecated",
        {"corpus/001_72ad3820649f10bd.txt", "corpus/004_910b252cb6477a8d.txt"},
    ),
]

UNANSWERABLE = [
    "Who won the 2022 FIFA World Cup?",
    "What is the recipe for a chocolate cake?",
    "What is the capital of Australia?",
    "How do I reset my iPhone password?",
    "Qui a gagné la Coupe du monde 2018 ?",
]


def assert_citations_are_verbatim(answer: Answer) -> None:
    markers = {int(m) for m in __import__("re").findall(r"\[(\d+)\]", answer.answer)}
    assert markers == {c.n for c in answer.citations}, "every marker has a citation and back"
    for citation in answer.citations:
        text = (PROJECT_ROOT / citation.source).read_bytes().decode("utf-8")
        assert text[citation.start : citation.end] == citation.quote
        assert citation.title and citation.kind


@pytest.mark.parametrize(("question", "fact", "sources"), ANSWERABLE)
def test_answerable_questions_quote_the_fact(
    engine: Engine, question: str, fact: str, sources: set[str]
) -> None:
    answer = engine.ask(question)
    assert answer.grounded, answer.answer
    assert_citations_are_verbatim(answer)
    assert any(fact in c.quote and c.source in sources for c in answer.citations), answer.answer


@pytest.mark.parametrize("question", UNANSWERABLE)
def test_questions_outside_the_corpus_are_not_answered(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert not answer.grounded
    assert answer.citations == ()
    assert "[1]" not in answer.answer


def test_a_question_about_another_model_never_quotes_medium_prices(engine: Engine) -> None:
    answer = engine.ask("What is the price of Mistral Large 3?")
    assert_citations_are_verbatim(answer)
    assert not any("$0.4" in c.quote or "$2 per" in c.quote for c in answer.citations)


def test_the_answer_is_framed_in_the_question_language(engine: Engine) -> None:
    assert engine.ask("Combien coûte Mistral Medium 3 ?").answer.startswith("Selon les documents")
    refusal = engine.ask("Qui a gagné la Coupe du monde 2018 ?")
    assert refusal.answer == "Les documents ne répondent pas à cette question."


def test_each_answer_sentence_is_a_quote_followed_by_its_marker(engine: Engine) -> None:
    answer = engine.ask("Which clouds offer Mistral Medium 3.1?")
    framing, *lines = [line for line in answer.answer.splitlines() if line]
    assert framing == "The documents say:"
    for line, citation in zip(lines, answer.citations, strict=True):
        assert line == f"- {citation.quote} [{citation.n}]"


def test_answers_report_what_was_retrieved(engine: Engine) -> None:
    answer = engine.ask("Is Mistral Medium 3 multimodal?")
    assert answer.backend == "extractive"
    assert "multilingual-e5-small" in answer.model or "MiniLM" in answer.model
    assert len(answer.retrieved) == engine.settings.top_k
    assert all({"source", "score", "similarity"} <= set(r) for r in answer.retrieved)
