"""The index used from a LangChain chain: cited Documents, and the README's example runs."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ValidationError

from bot.answering.engine import Engine
from bot.answering.langchain_retriever import ProcurebotRetriever
from bot.errors import QuestionError
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_documents_are_the_passages_verbatim_with_their_citation(engine: Engine) -> None:
    retriever = ProcurebotRetriever(engine=engine)
    assert isinstance(retriever, BaseRetriever)
    documents = retriever.invoke("Which clouds offer Mistral Medium 3?")
    assert len(documents) == engine.settings.top_k
    for document in documents:
        assert isinstance(document, Document)
        meta = document.metadata
        start, end = meta["span"]
        text = (engine.settings.corpus_dir.parent / meta["source"]).read_text(encoding="utf-8")
        assert text[start:end] == document.page_content
        assert meta["title"] and meta["kind"] and re.fullmatch(r"[0-9a-f]{64}", meta["sha256"])
        assert meta["date"] is None or re.fullmatch(r"\d{4}(-\d{2}){0,2}", meta["date"])
    assert [d.metadata["score"] for d in documents] == sorted(
        (d.metadata["score"] for d in documents), reverse=True
    )
    assert any("Azure" in d.page_content or "Bedrock" in d.page_content for d in documents)


def test_k_is_the_number_of_documents_and_bad_input_is_refused(engine: Engine) -> None:
    assert len(ProcurebotRetriever(engine=engine, k=2).invoke("What does it cost?")) == 2
    more = engine.settings.top_k + 3
    assert len(ProcurebotRetriever(engine=engine, k=more).invoke("What does it cost?")) == more
    for wrong in (0, -1):
        with pytest.raises(ValidationError):
            ProcurebotRetriever(engine=engine, k=wrong)
    with pytest.raises(QuestionError):
        ProcurebotRetriever(engine=engine).invoke("   ")


def test_what_the_person_should_know_travels_with_each_document(engine: Engine) -> None:
    long = "What does Mistral Medium 3 cost? " * 400  # over PROCUREBOT_MAX_QUESTION_CHARS
    documents = ProcurebotRetriever(engine=engine, k=2).invoke(long)
    assert documents and all(
        any("characters long" in notice for notice in d.metadata["notices"]) for d in documents
    )
    short = ProcurebotRetriever(engine=engine, k=1).invoke("What does Mistral Medium 3 cost?")
    assert short[0].metadata["notices"] == []


def test_the_readme_example_runs(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = re.search(
        r"```python\n(from bot\.answering\.langchain_retriever import .*?)```", readme, re.DOTALL
    )
    assert example, "README.md lost its LangChain example"
    monkeypatch.setenv("PROCUREBOT_DATA_DIR", str(settings.data_dir))  # the index built above
    monkeypatch.setenv("PROCUREBOT_CORPUS_DIR", str(settings.corpus_dir))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(example.group(1), "README.md", "exec"), {})
    lines = printed.getvalue().splitlines()
    assert len(lines) == 3
    for line in lines:
        assert re.match(r"corpus/\S+:\d+-\d+ .+ [0-9a-f]{12}$", line), line
