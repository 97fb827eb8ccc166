"""Answers over documents procurebot was never tuned on: an invented vendor's HTML and Markdown
pages (tables, lists, hard-wrapped prose, lifecycle dates), and honest refusals over the
shipped corpus for what no document states."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from bot.answering.answers import Answer
from bot.answering.calibration import PROBES_BY_LANGUAGE
from bot.answering.compose import render, with_antecedents
from bot.answering.engine import Engine
from bot.answering.followups import standalone
from bot.settings import Settings
from index.language import guess_language
from tests.conftest import engine_over

PRICES_HTML = """<html><head><title>Orca pricing</title></head><body>
<h1>Orca pricing</h1>
<p>Prices are per million tokens, in US dollars.</p>
<table>
<tr><th>Product</th><th>Input</th><th>Output</th></tr>
<tr><td>Orca Pro</td><td>$1.00</td><td>$7.20</td></tr>
<tr><td>Orca Lite</td><td>$0.10</td><td>$0.40</td></tr>
</table>
</body></html>
"""

RATES_MD = """# Harbor rate card

Harbor bills every model per million tokens.

| Model | Input | Output |
|:--|--:|--:|
| Harbor Max | EUR 2.50 | EUR 9.90 |
| Harbor Mini | EUR 0.20 | EUR 0.80 |
"""

PLATFORM_MD = """---
title: Orca platform
date: 2026-02-01
---
import Note from '@site/note'

# Orca platform

<Note>
Customer data is stored in the EU region selected at onboarding and is never
transferred outside the European Economic Area by the provider.
</Note>

## Endpoints

The following endpoints are available to every customer:
- `/v1/chat` for conversations
- `/v1/embed` for embeddings
- `/v1/batch` for asynchronous jobs

## Lifecycle

Orca Classic was deprecated on January 15, 2025 and will be retired on June 30, 2026.
Orca Pro 3 was released on March 3, 2025 as the successor of Orca Classic.
"""


@pytest.fixture(scope="module")
def orca(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """An invented vendor's documents, indexed with the default embedding model."""
    files = {"prices.html": PRICES_HTML, "rates.md": RATES_MD, "platform.mdx.md": PLATFORM_MD}
    return engine_over(tmp_path_factory.mktemp("orca"), files, today=date(2026, 1, 1))


def _prices(text: str) -> list[str]:
    return re.findall(r"\$\d+\.\d\d|EUR \d+\.\d\d", text)


@pytest.mark.parametrize(
    ("question", "row", "header", "price", "others"),
    [
        (
            "What is the output price of Orca Lite?",
            "| Orca Lite | $0.10 | $0.40 |",
            "| Product | Input | Output |",
            "$0.40",
            ["$7.20", "$1.00"],
        ),
        (
            "What does Harbor Mini cost per million output tokens?",
            "| Harbor Mini | EUR 0.20 | EUR 0.80 |",
            "| Model | Input | Output |",
            "EUR 0.80",
            ["EUR 9.90", "EUR 2.50"],
        ),
    ],
    ids=["html-table", "markdown-table"],
)
def test_a_price_is_quoted_as_its_row_under_the_header(
    orca: Engine, question: str, row: str, header: str, price: str, others: list[str]
) -> None:
    answer = orca.ask(question)
    quotes = [c.quote for c in answer.citations]
    assert answer.grounded and row in quotes and header in quotes
    assert answer.answer.index(header) < answer.answer.index(row)
    assert _prices(answer.answer)[:2] == _prices(row)  # this product's prices come first
    assert not any(other in answer.answer for other in others)


def test_a_list_question_quotes_the_lead_in_with_its_items(orca: Engine) -> None:
    answer = orca.ask("Which endpoints are available?")
    quotes = [c.quote for c in answer.citations]
    assert "The following endpoints are available to every customer:" in quotes
    for item in ("`/v1/chat` for conversations", "`/v1/embed` for embeddings"):
        assert item in quotes
    assert "`/v1/batch` for asynchronous jobs" in quotes


def test_a_hard_wrapped_sentence_is_quoted_whole(orca: Engine) -> None:
    answer = orca.ask("Is customer data transferred outside the European Economic Area?")
    assert answer.grounded
    assert (
        "Customer data is stored in the EU region selected at onboarding and is never\n"
        "transferred outside the European Economic Area by the provider."
    ) in [c.quote for c in answer.citations]
    assert not any(c.quote.startswith(("import ", "<Note", "title:")) for c in answer.citations)


def test_two_dates_in_one_sentence_give_each_event_its_date(orca: Engine) -> None:
    answer = orca.ask("Is Orca Classic deprecated, and when will it be retired?")
    assert "deprecated since 2025-01-15" in answer.answer
    assert "retired on 2026-06-30" in answer.answer
    assert "2026-06-30" not in answer.answer.split("deprecated since")[1].split("\n")[0]


def test_an_english_question_about_a_new_name_is_framed_in_english(orca: Engine) -> None:
    answer = orca.ask("When was Orca Pro 3 released?")
    assert answer.language == "en" and answer.answer.startswith("The documents say:")
    assert "March 3, 2025" in answer.answer


@pytest.mark.parametrize(
    "question",
    [
        "What liability cap does the vendor accept?",
        "What are the payment terms for invoices?",
        "Is there a termination fee?",
        "Does the vendor indemnify us against IP claims?",
        "What volume discount do public-sector buyers get?",
    ],
)
def test_what_no_document_states_is_refused_without_quotes(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert not answer.grounded and answer.citations == ()


def _estimate(answer: Answer) -> str:
    return answer.answer.split("\n\n")[1]


def test_volumes_written_in_digits_or_words_give_the_same_estimate(engine: Engine) -> None:
    digits = engine.ask(
        "What would 10,000,000 input tokens and 2,000,000 output tokens a month cost on "
        "Mistral Medium 3?"
    )
    words = engine.ask(
        "What would 10 million input tokens and 2 million output tokens a month cost on "
        "Mistral Medium 3?"
    )
    assert _estimate(digits) == _estimate(words)
    assert "10,000,000 tokens" in _estimate(digits) and "total" in _estimate(digits)


def test_a_short_new_question_after_a_french_one_is_read_on_its_own() -> None:
    french = "Combien coûte Mistral Medium 3 par million de tokens en entrée ?"
    assert standalone("Is there a termination fee?", [french]) == "Is there a termination fee?"
    assert standalone("Et pour la sortie ?", [french]).startswith(french)


def test_a_document_about_another_vendor_is_answered_next_to_the_corpus(
    tmp_path: Path, settings: Settings, engine: Engine
) -> None:
    uploads = tmp_path / "data" / "uploads"
    uploads.mkdir(parents=True)
    (uploads / "harbor.md").write_text(RATES_MD, encoding="utf-8")
    shared = Settings(data_dir=tmp_path / "data", corpus_dir=settings.corpus_dir)
    mixed = Engine.open(shared)
    answer = mixed.ask("What does Harbor Max cost per million input tokens?")
    assert answer.grounded
    assert "| Harbor Max | EUR 2.50 | EUR 9.90 |" in [c.quote for c in answer.citations]


def test_a_short_question_in_another_language_is_not_judged_by_english_words() -> None:
    assert guess_language("Wo liegen die Daten?", default="") == ""  # too short to be sure
    assert guess_language("What is the output price of Orca Lite?", default="") == "en"


def test_a_list_question_quotes_nested_items_under_their_parent(tmp_path: Path) -> None:
    regions = (
        "# Orca regions\n\nThe Orca service runs in these regions:\n"
        "- Europe\n  - Sweden Central\n  - France Central\n- United States\n  - East US\n\n"
        "Customer data stays in the region selected at onboarding.\n"
    )
    engine = engine_over(tmp_path, {"regions.md": regions})
    answer = engine.ask("Which regions does the Orca service run in?")
    lines = [re.sub(r" \[\d+\]$", "", line) for line in answer.answer.splitlines()[2:]]
    assert lines == [
        "- The Orca service runs in these regions:",
        "  - Europe",
        "    - Sweden Central",
        "    - France Central",
        "  - United States",
        "    - East US",
    ]


def test_products_named_without_a_version_are_told_apart(tmp_path: Path) -> None:
    rates = RATES_MD + "\nHarbor Mini was retired on June 30, 2025.\n"
    engine = engine_over(tmp_path, {"rates.md": rates}, today=date(2026, 1, 1))
    assert {"max", "mini"} <= engine.retriever.families
    answer = engine.ask("Is Harbor Max still available, or was it retired?")
    assert "retired" not in answer.answer.split("\n\n")[1], "Harbor Mini's retirement"
    assert "Harbor Mini was retired" in engine.ask("When was Harbor Mini retired?").answer


@pytest.mark.parametrize(
    ("question", "quoted"),
    [
        (
            "What is the output price of Orca Pro, and when was Orca Classic retired?",
            ["| Orca Pro | $1.00 | $7.20 |", "Orca Classic was deprecated on January 15, 2025"],
        ),
        (
            "Which endpoints are available, and what is the output price of Orca Lite?",
            ["| Orca Lite | $0.10 | $0.40 |", "`/v1/chat` for conversations", "`/v1/batch`"],
        ),
    ],
)
def test_each_part_of_a_two_part_question_is_answered(
    orca: Engine, question: str, quoted: list[str]
) -> None:
    answer = orca.ask(question)
    for quote in quoted:
        assert quote in answer.answer, answer.answer


def test_a_sentence_that_points_back_is_quoted_after_the_one_it_points_to(
    tmp_path: Path,
) -> None:
    billing = (
        "# Billing\n\nIf the service does not process a request, you are not charged.\n"
        "For example, a 401 error due to authentication or a 429 error due to throttling.\n\n"
        "Invoices are sent monthly.\n"
    )
    engine = engine_over(tmp_path, {"billing.md": billing})
    candidates = engine.retriever.retrieve_with_sentences("throttling errors", 4).candidates
    example = next(c for c in candidates if c.sentence.text.startswith("For example"))
    invoices = next(c for c in candidates if c.sentence.text.startswith("Invoices"))
    texts = [c.sentence.text for c in with_antecedents([example, invoices], candidates)]
    assert texts == [
        "If the service does not process a request, you are not charged.",
        example.sentence.text,
        "Invoices are sent monthly.",  # no pointing back: alone
    ]


def test_a_nested_list_is_quoted_once_whatever_order_its_units_come_in(tmp_path: Path) -> None:
    vault = (
        "# Keys\n\nThe key vault must meet these requirements:\n"
        "- Soft delete is enabled.\n- **Permissions**:\n  - get\n  - wrap key\n"
    )
    engine = engine_over(tmp_path, {"vault.md": vault})
    units = engine.retriever.retrieve_with_sentences("key vault permissions", 4).candidates
    items = sorted((c for c in units if c.sentence.kind == "item"), key=lambda c: c.sentence.start)
    nested_first = [items[2], items[3], items[0], items[1]]  # "get", "wrap key" before parents
    markers: dict[tuple[str, int], int] = {}
    lines = render(
        nested_first, lambda c: markers.setdefault(c.sentence.start, len(markers) + 1), str
    ).splitlines()
    assert [re.sub(r" \[\d+\]$", "", line) for line in lines] == [
        "- The key vault must meet these requirements:",
        "  - Soft delete is enabled.",
        "  - **Permissions**:",
        "    - get",
        "    - wrap key",
    ]


ACME = {
    "pricing.md": (
        "# Acme Vision API pricing\n\nThe Acme Vision API costs $3 per million input tokens.\n"
        "Output tokens cost $9 per million tokens.\n"
        "Batch requests receive a 50% discount on both input and output.\n"
    ),
    "deployment.md": (
        "# Deploying Acme Vision\n\nAcme Vision can be self-hosted on servers with at least "
        "four GPUs.\nCustomers in the EU can choose data residency in Frankfurt or Paris.\n"
    ),
}


def test_a_question_in_another_language_is_measured_against_probes_in_the_documents_language(
    tmp_path: Path,
) -> None:
    # e5 puts "Quel est le prix…" nearer the French recipe probe (0.85) than the English
    # documents about prices (0.80): against all probes it was refused.
    engine = engine_over(tmp_path, ACME)
    assert engine.retriever.gates.vectors.shape[0] == len(PROBES_BY_LANGUAGE["en"])
    priced = engine.ask("Quel est le prix du traitement par lots ?")
    assert priced.grounded and "$3 per million input tokens" in priced.answer
    recipe = engine.ask("Quelle est la meilleure recette de quiche lorraine ?")
    assert not recipe.grounded and not recipe.citations


def test_only_a_sentence_of_the_same_paragraph_is_an_antecedent(tmp_path: Path) -> None:
    text = (
        "Payment terms are 30 days net from the invoice date.\n\n"
        "It supports single sign-on through SAML 2.0 for every plan.\n"
        "The helpdesk is open from 9:00 to 17:00 CET on working days.\n"
        "IT administrators can reset user passwords from the console.\n"
    )
    engine = engine_over(tmp_path, {"policy.txt": text})
    units = engine.retriever.retrieve_with_sentences("single sign-on passwords", 4).candidates
    by_start = {c.sentence.text.split()[0]: c for c in units}
    sso, admins, helpdesk = by_start["It"], by_start["IT"], by_start["The"]
    assert [c.sentence.text for c in with_antecedents([sso], units)] == [sso.sentence.text]
    assert with_antecedents([admins], units) == [admins]  # "IT" points nowhere
    assert with_antecedents([helpdesk, by_start["Payment"]], units)[0] is helpdesk


def test_an_antecedent_chosen_after_its_sentence_moves_before_it(tmp_path: Path) -> None:
    text = "Batch requests receive a 50% discount.\nThis applies to every paid plan.\n"
    engine = engine_over(tmp_path, {"batch.md": text})
    units = engine.retriever.retrieve_with_sentences("batch discount plans", 4).candidates
    this, batch = (next(c for c in units if c.sentence.text.startswith(w)) for w in ("This", "B"))
    assert with_antecedents([this, batch], units) == [batch, this]


def test_a_list_nested_four_deep_is_quoted_whole(tmp_path: Path) -> None:
    setup = (
        "# Setup\n\nDo the following steps:\n- Configure security:\n  - Enable SSO:\n"
        "    - Choose SAML 2.0:\n      - Upload the IdP metadata XML file.\n"
        "      - Map the email attribute.\n"
    )
    engine = engine_over(tmp_path, {"setup.md": setup})
    units = engine.retriever.retrieve_with_sentences("SAML metadata", 4).candidates
    items = sorted((c for c in units if c.sentence.kind == "item"), key=lambda c: c.sentence.start)
    deepest_first = sorted(items, key=lambda c: -c.sentence.lead_start)
    lines = render(deepest_first, lambda c: c.sentence.start, str).splitlines()
    assert [re.sub(r" \[\d+\]$", "", line) for line in lines] == [
        "- Do the following steps:",
        "  - Configure security:",
        "    - Enable SSO:",
        "      - Choose SAML 2.0:",
        "        - Upload the IdP metadata XML file.",
        "        - Map the email attribute.",
    ]
