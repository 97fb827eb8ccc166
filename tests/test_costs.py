from __future__ import annotations

import re
from decimal import Decimal

import pytest

from bot.answering.engine import Engine
from bot.answering.facts import costs
from bot.answering.facts.costs import volumes
from tests.conftest import engine_over


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "10 million input and 2 million output tokens a month on Medium 3",
            {"input": 10_000_000, "output": 2_000_000},
        ),
        ("120M input tokens and 25M output tokens", {"input": 120_000_000, "output": 25_000_000}),
        (
            "one million input tokens plus one million output tokens",
            {"input": 1_000_000, "output": 1_000_000},
        ),
        (
            "500 millions de tokens en entrée et 100 millions en sortie",
            {"input": 500_000_000, "output": 100_000_000},
        ),
        ("1,5 Mio. Eingabe-Tokens", {}),  # not a form we read: no guess
        ("What is the Mistral Medium 3 input price?", {}),  # a version is not a volume
        ("2500 input tokens", {"input": 2500}),
        (
            "10 000 000 input tokens and 2 000 000 output tokens",
            {"input": 10_000_000, "output": 2_000_000},
        ),
        ("100000 input and 20000 output tokens", {"input": 100_000, "output": 20_000}),
        ("How much do Mistral Medium 3 input tokens cost?", {}),
    ],
)
def test_volumes(question: str, expected: dict[str, int]) -> None:
    assert volumes(question, frozenset({"medium"})) == expected  # a family the corpus names


def test_the_cost_example_computes_usd_8_with_its_formula(engine: Engine) -> None:
    answer = engine.ask(
        "What would 10 million input and 2 million output tokens a month cost on Medium 3?"
    )
    assert answer.grounded
    assert "10,000,000 tokens / 1,000,000 × USD 0.40 [" in answer.answer
    assert "2,000,000 tokens / 1,000,000 × USD 2.00 [" in answer.answer
    assert "USD 4.00 + USD 4.00 = **USD 8.00**" in answer.answer
    cited = {c.quote for c in answer.citations}
    assert "**Input:** $0.4 per million tokens" in cited
    assert not any("$8.10" in quote or "$2.75" in quote for quote in cited), "wrong version"


def test_no_estimate_without_a_price_for_each_direction(engine: Engine) -> None:
    answer = engine.ask("Estimate the cost of 20M input and 20M output tokens on Mistral Small 4.")
    assert not answer.grounded and answer.citations == ()


def test_each_direction_gets_its_own_price_from_a_combined_sentence(engine: Engine) -> None:
    answer = engine.ask(
        "We expect 120M input tokens and 25M output tokens a month on Medium 3.1. "
        "What is the monthly bill at list price?"
    )
    assert "120,000,000 tokens / 1,000,000 × USD 0.40 [" in answer.answer
    assert "25,000,000 tokens / 1,000,000 × USD 2.00 [" in answer.answer
    assert "**USD 98.00**" in answer.answer


PLANS_MD = """# Orca plans

The Orca Pro 3 support plan costs EUR 4,200 per month.

Dedicated hosting for Orca Pro 3 is billed at $1.70/hour.

Orca Pro 3 seats are EUR 30 per seat per month.

Orca Pro 3 costs $0.40 per million input tokens and $2.00 per million output tokens.

Deployments in a sovereign region carry a 10% upcharge.
"""


@pytest.fixture(scope="module")
def orca(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """An invented vendor's plans, priced per month, per hour and per seat per month."""
    return engine_over(tmp_path_factory.mktemp("orca-plans"), {"plans.md": PLANS_MD})


@pytest.mark.parametrize(
    ("question", "formula", "price"),
    [
        (
            "What would 25 seats for 12 months cost on Orca Pro 3?",
            "25 seats × 12 months × EUR 30.00 per seat per month [1] = **EUR 9,000.00**",
            "EUR 30 per seat per month",
        ),
        (
            "What would a 90-day pilot of dedicated hosting cost on Orca Pro 3?",
            "90 days × 24 hours/day × USD 1.70 per hour [1] = **USD 3,672.00**",
            "$1.70/hour",
        ),
        (
            "How much would the Orca Pro 3 support plan cost us over 6 months?",
            "6 months × EUR 4,200.00 per month [1] = **EUR 25,200.00**",
            "EUR 4,200 per month",
        ),
    ],
)
def test_prices_per_seat_hour_and_month_are_estimated(
    orca: Engine, question: str, formula: str, price: str
) -> None:
    answer = orca.ask(question)
    assert answer.grounded
    assert formula in answer.answer
    (priced,) = [c for c in answer.citations if c.n == 1]
    assert price in priced.quote, "the cited sentence gives the price used"


def test_a_surcharge_applies_when_the_question_brings_its_condition(orca: Engine) -> None:
    asked = "What would 10 million input and 2 million output tokens cost on Orca Pro 3"
    plain, sovereign = orca.ask(f"{asked}?"), orca.ask(f"{asked} in a sovereign region?")
    assert "= **USD 8.00**" in plain.answer and "upcharge" not in plain.answer
    row = re.search(
        r"- with the 10% upcharge \[(\d)\]: USD 8.00 × 1.10 = \*\*USD 8.80\*\*", sovereign.answer
    )
    assert row, sovereign.answer
    (cited,) = [c for c in sovereign.citations if c.n == int(row.group(1))]
    assert cited.quote == "Deployments in a sovereign region carry a 10% upcharge."


@pytest.mark.parametrize(
    ("written", "currency", "amount"),
    [
        ("EUR 4,200 per month", "EUR", "4200"),
        ("4.200 € per month", "EUR", "4200"),
        ("$0.40 per hour", "USD", "0.40"),
        ("USD 2 per seat", "USD", "2"),
        ("12 dollars a day", "USD", "12"),
    ],
)
def test_money_with_the_currency_before_or_after(written: str, currency: str, amount: str) -> None:
    match = re.search(costs._AMOUNT, written, re.IGNORECASE)
    assert match is not None
    assert costs._money(match) == (currency, Decimal(amount))


def test_units_of_time_convert_and_other_units_must_match() -> None:
    assert costs.quantities("a 90-day pilot with 25 seats") == [
        costs.Quantity(Decimal(90), "day"),
        costs.Quantity(Decimal(25), "seat"),
    ]
    assert costs.quantities("Orca Pro 3 for 2 weeks", frozenset({"pro"})) == [
        costs.Quantity(Decimal(2), "week")
    ]


KESTREL_MD = """# Kestrel plans

Dedicated hosting for Kestrel Atlas 1 is billed at $4.50/hour.

Dedicated hosting delivers 3x throughput for batch jobs compared with shared endpoints.

Kestrel Atlas 1 workspace seats are EUR 30/user/month.

The Kestrel Atlas 1 support plan costs EUR 4,200 per month.

Weekend coverage of the support plan carries a surcharge of 20%.

Plover Core 4 capacity is priced at $2.50 per GPU-hour.
"""


@pytest.fixture(scope="module")
def kestrel(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """Prices a newcomer used to break the estimates (each case below was once wrong)."""
    return engine_over(tmp_path_factory.mktemp("kestrel"), {"plans.md": KESTREL_MD})


@pytest.mark.parametrize(
    ("question", "expected", "wrong"),
    [
        (
            "How much would dedicated hosting for batch jobs on Kestrel Atlas 1 cost for 2 weeks?",
            "**USD 1,512.00**",
            "3x",  # a throughput claim is no surcharge
        ),
        (
            "What would the Kestrel Atlas 1 support plan cost over 6 months without weekend "
            "coverage?",
            "**EUR 25,200.00**",
            "surcharge",
        ),
        (
            "What would the Kestrel Atlas 1 support plan cost over 6 months with weekend coverage?",
            "EUR 25,200.00 × 1.20 = **EUR 30,240.00**",
            "",
        ),
        ("What would 4 GPUs for 30 days cost on Plover Core 4?", "**USD 7,200.00**", "per gpu ="),
        (
            "What would 40 seats cost for 3 months on Kestrel Atlas 1?",
            "",  # seats are not users: no estimate, and never the support plan's price
            "EUR 4,200.00 per month",
        ),
    ],
)
def test_estimates_a_newcomer_once_broke(
    kestrel: Engine, question: str, expected: str, wrong: str
) -> None:
    answer = kestrel.ask(question)
    assert expected in answer.answer, answer.answer
    assert not wrong or wrong not in answer.answer, answer.answer


def test_a_follow_up_with_a_new_quantity_is_estimated_for_it(kestrel: Engine) -> None:
    first = "What would a 30-day pilot of dedicated hosting cost on Kestrel Atlas 1?"
    answer = kestrel.ask("And for 90 days?", [first])
    assert "90 days × 24 hours/day × USD 4.50 per hour" in answer.answer, answer.answer
