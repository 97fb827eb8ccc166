"""Cost estimates from the prices the sources give, with the formula shown.

"What would 10 million input and 2 million output tokens cost on Pro 3?" is answered by
reading the volumes from the question, the per-million-token prices from sentences about that
model, and computing volume / 1,000,000 × price for each direction. Without a price for a
direction asked, there is no estimate.

Prices per any other unit a document uses ("$1.70/hour hosting fee", "EUR 30 per seat per
month", "4.200 € per month") are estimated the same way from the question's quantities of
those units ("25 seats for 12 months", "a 90-day pilot"); units of time convert into each
other (`HOURS`: a day is 24 hours, a month 730, the cloud providers' convention), and the
conversion is shown. Amounts are exact decimals and keep their currency, written before or
after the number ("$0.40", "USD 2", "EUR 4,200", "4.200 €").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from bot.answering.keywords import terms
from bot.answering.retrieval import Candidate

_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "un": 1,
    "une": 1,
    "deux": 2,
    "ein": 1,
    "eine": 1,
    "zwei": 2,
    "uno": 1,
    "due": 2,
    "dos": 2,
}
_MULTIPLIERS = {
    "k": 10**3,
    "thousand": 10**3,
    "m": 10**6,
    "mn": 10**6,
    "mio": 10**6,
    "million": 10**6,
    "millions": 10**6,
    "millionen": 10**6,
    "milioni": 10**6,
    "milione": 10**6,
    "millones": 10**6,
    "millon": 10**6,
    "millón": 10**6,
    "b": 10**9,
    "bn": 10**9,
    "billion": 10**9,
    "billions": 10**9,
    "milliard": 10**9,
    "milliards": 10**9,
    "miliardi": 10**9,
    "milliarden": 10**9,
}
_DIRECTIONS = {
    "input": "input",
    "inputs": "input",
    "entrée": "input",
    "entree": "input",
    "entrada": "input",
    "eingabe": "input",
    "ingresso": "input",
    "prompt": "input",
    "output": "output",
    "outputs": "output",
    "sortie": "output",
    "salida": "output",
    "ausgabe": "output",
    "uscita": "output",
    "completion": "output",
}
_WORD = re.compile(
    r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?![\d.,])|\d+(?:[.,]\d+)*(?:[kKmMbB]n?)?"
    r"|[^\W\d_]+(?:-[^\W\d_]+)?"
)
# "10,000,000", "10.000.000" and "10 000 000" (thousands grouped), "2.5", "10M", "1.5bn"
_QUANTITY = re.compile(
    r"(\d{1,3}(?:([.,\u0020\u00a0\u202f])\d{3})(?:\2\d{3})*|\d+(?:[.,]\d+)?)([kKmMbB]n?)?$"
)
LOOK_BACK = 6  # words between a volume and the direction it belongs to

_CURRENCY = {"$": "USD", "€": "EUR", "£": "GBP", "dollar": "USD", "dollars": "USD"}
_CURRENCY |= {"euro": "EUR", "euros": "EUR"}
_NUMERAL = r"\d{1,3}(?:[,.]\d{3})+(?:[.,]\d{1,4})?|\d+(?:[.,]\d{1,4})?"
_AMOUNT = (
    rf"(?:(?P<cur>[$€£]|\b(?:USD|EUR|GBP|CHF)\b)\s?(?P<amount>{_NUMERAL})"
    rf"|(?P<amount_b>{_NUMERAL})\s?(?P<cur_b>[€£]|(?:USD|EUR|GBP|CHF|dollars?|euros?)\b))"
)
_PER_MILLION = r"per (?:1M|1 ?million|million|1,000,000)"
_PRICE_PATTERNS = (
    # "**Input:** $0.4 per million tokens", "| Output | $8.10 per 1M tokens |": a label, then
    # only label punctuation before the amount (never other words, which may name the other
    # direction: "input tokens and $2 per million output tokens")
    re.compile(rf"\b(?P<dir>input|output)\b[\s:*|]{{0,12}}{_AMOUNT}\s*{_PER_MILLION}", re.I),
    # "$0.40 per million input tokens"
    re.compile(rf"{_AMOUNT}\s*{_PER_MILLION}\s+(?P<dir>input|output)\b", re.I),
)


@dataclass(frozen=True)
class Price:
    direction: str  # "input" | "output"
    currency: str  # "USD"
    per_million: Decimal
    candidate: Candidate


@dataclass(frozen=True)
class Line:
    direction: str
    tokens: int
    price: Price

    @property
    def amount(self) -> Decimal:
        return (Decimal(self.tokens) / Decimal(10**6) * self.price.per_million).quantize(
            Decimal("0.01")
        )


def volumes(question: str, known: frozenset[str] = frozenset()) -> dict[str, int]:
    """Token volumes per direction the question states ({"input": 10_000_000, ...}); a
    number right after a product family's name (`known`) is its version, not a volume."""
    words = [w.lower() for w in _WORD.findall(question)]
    found: dict[str, int] = {}
    of_tokens = any(  # "10 000 000 input and 2 000 000 output tokens": both are tokens
        _DIRECTIONS.get(word) and index + 1 < len(words) and words[index + 1] in _TOKEN_WORDS
        for index, word in enumerate(words)
    )
    for index, word in enumerate(words):
        direction = _DIRECTIONS.get(word)
        if not direction:
            continue
        quantity = _quantity_before(words, index, of_tokens, known)
        if quantity:
            found[direction] = quantity  # the last one stated: a follow-up's new volume
    return found


_TOKEN_WORDS = ("tokens", "token", "jetons", "jeton")


def _quantity_before(
    words: list[str], index: int, tokens_follow: bool, known: frozenset[str]
) -> int | None:
    for back in range(index - 1, max(-1, index - 1 - LOOK_BACK), -1):
        following = words[back + 1] if back + 1 < index else ("tokens" if tokens_follow else "")
        after_model = back > 0 and words[back - 1] in known
        value = _value(words[back], following, after_model)
        if value is not None:
            return value
    return None


def _value(word: str, following: str, after_model: bool) -> int | None:
    match = _QUANTITY.match(word)
    if match:
        number = _decimal(match.group(1))
        suffix = (match.group(3) or "").lower()
    elif word in _NUMBER_WORDS:
        number, suffix = Decimal(_NUMBER_WORDS[word]), ""
    else:
        return None
    multiplier = _MULTIPLIERS.get(suffix) or _MULTIPLIERS.get(following)
    if multiplier is None and (following not in _TOKEN_WORDS or after_model):
        return None  # a bare number ("Medium 3 input price") is not a volume
    return int(number * (multiplier or 1))


def _decimal(written: str) -> Decimal:
    """A written number: "10,000,000" and "10.000.000" group thousands; a single separator
    followed by three digits groups thousands too ("50,000"), otherwise it is the decimal
    point ("2.5", "0,4")."""
    written = re.sub(r"[ \u00a0\u202f]", "", written)  # "10 000 000": spaces group thousands
    separators = [ch for ch in written if ch in ".,"]
    if len(separators) > 1 or (
        separators and len(written) - written.rindex(separators[0]) - 1 == 3
    ):
        return Decimal(written.replace(",", "").replace(".", ""))
    return Decimal(written.replace(",", "."))


def prices(candidates: list[Candidate]) -> dict[str, list[Price]]:
    """Per-million-token prices by direction, in the order of the candidates given."""
    found: dict[str, list[Price]] = {"input": [], "output": []}
    for candidate in candidates:
        for pattern in _PRICE_PATTERNS:
            for match in pattern.finditer(candidate.sentence.text):
                currency, amount = _money(match)
                found[match.group("dir").lower()].append(
                    Price(match.group("dir").lower(), currency, amount, candidate)
                )
    return found


def _money(match: re.Match[str]) -> tuple[str, Decimal]:
    """(currency code, amount) of a match of `_AMOUNT`."""
    symbol = match.group("cur") or match.group("cur_b")
    currency = _CURRENCY.get(symbol.lower(), _CURRENCY.get(symbol, symbol.upper()))
    return currency, _decimal(match.group("amount") or match.group("amount_b"))


def estimate(wanted: dict[str, int], available: dict[str, list[Price]]) -> list[Line] | None:
    """One line per direction asked, priced from the first price found; None if one is missing."""
    lines = []
    for direction in ("input", "output"):
        if direction in wanted:
            if not available.get(direction):
                return None
            lines.append(Line(direction, wanted[direction], available[direction][0]))
    return lines or None


def money(currency: str, amount: Decimal) -> str:
    return f"{currency} {amount:,.2f}"


# Hours in each unit of time; quantities and prices in different units of time convert.
HOURS = {
    "minute": Decimal(1) / Decimal(60),
    "hour": Decimal(1),
    "day": Decimal(24),
    "week": Decimal(168),
    "month": Decimal(730),
    "year": Decimal(8760),
}
_UNIT_NAMES = {"h": "hour", "hr": "hour", "min": "minute", "mo": "month", "yr": "year"}
_UNIT_NAMES |= {"daily": "day", "hourly": "hour", "monthly": "month", "yearly": "year"}
_UNIT_NAMES |= {"annual": "year", "annually": "year", "weekly": "week"}
_PER_UNIT = re.compile(r"\s*(?:/|\bper\b|\ba\b|\ban\b|\beach\b)\s*([A-Za-z]+(?:-[A-Za-z]+)?)")
_QUANTITY_OF = re.compile(
    r"(?<![\w.,$€£])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s?(k|thousand|m|million)\b)?"
    r"[\s-]*([A-Za-z]+)",
    re.IGNORECASE,
)
MAX_UNITS = 3  # "per GPU-hour per node"
_TOKEN_UNITS = frozenset(("token", "tokens", "million", "m", "1m", "k", "thousand", "mtok"))


def unit_of(word: str) -> str:
    """A unit word in one form: "Hours", "hrs", "hourly" -> "hour"; "seats" -> "seat"."""
    lower = word.lower()
    lower = _UNIT_NAMES.get(lower, lower)
    if lower.endswith("s") and not lower.endswith("ss") and len(lower) > 3:
        lower = lower[:-1]
    return _UNIT_NAMES.get(lower, lower)


@dataclass(frozen=True)
class UnitPrice:
    """A price per one of each unit: EUR 30 per seat per month is (EUR, 30, (seat, month))."""

    currency: str
    amount: Decimal
    units: tuple[str, ...]
    candidate: Candidate


@dataclass(frozen=True)
class Quantity:
    number: Decimal
    unit: str  # as `unit_of` writes it


@dataclass(frozen=True)
class UnitLine:
    """One priced item: each quantity with the factor that converts it into the price's unit
    (24 for days priced per hour, 1 for the same unit)."""

    price: UnitPrice
    quantities: tuple[tuple[Quantity, Decimal], ...]

    @property
    def amount(self) -> Decimal:
        total = self.price.amount
        for quantity, factor in self.quantities:
            total *= quantity.number * factor
        return total.quantize(Decimal("0.01"))


def unit_prices(candidates: list[Candidate]) -> list[UnitPrice]:
    """Prices per a unit other than tokens, in the order of the candidates given."""
    found = []
    amount = re.compile(_AMOUNT, re.IGNORECASE)
    for candidate in candidates:
        text = candidate.sentence.text
        for match in amount.finditer(text):
            units: list[str] = []
            end = match.end()
            while len(units) < MAX_UNITS:
                per = _PER_UNIT.match(text, end)
                if not per:
                    break
                units += [unit_of(part) for part in per.group(1).split("-")]  # "GPU-hour"
                end = per.end()
            if units and not set(units) & _TOKEN_UNITS:
                currency, value = _money(match)
                found.append(UnitPrice(currency, value, tuple(units), candidate))
    return found


def quantities(question: str, known: frozenset[str] = frozenset()) -> list[Quantity]:
    """The question's quantities with their unit ("25 seats", "a 90-day pilot"), not counting
    a version after a product family's name nor money."""
    found: list[Quantity] = []
    for match in _QUANTITY_OF.finditer(question):
        before = question[: match.start()].split()
        if before and before[-1].lower() in known:
            continue
        number = _decimal(match.group(1)) * _MULTIPLIERS.get((match.group(2) or "").lower(), 1)
        unit = unit_of(match.group(3))
        found = [q for q in found if q.unit != unit]  # a follow-up's "and for 90 days?" wins
        found.append(Quantity(number, unit))
    return found


def unit_estimate(wanted: list[Quantity], available: list[UnitPrice]) -> UnitLine | None:
    """The first price whose units take every quantity the question gives, each unit one
    quantity (a unit of time any unit of time); None if no price fits."""
    for price in available:
        left, used = list(wanted), []
        for unit in price.units:
            match = next((q for q in left if q.unit == unit), None) or next(
                (q for q in left if q.unit in HOURS and unit in HOURS), None
            )
            if match is None:
                break
            left.remove(match)
            factor = HOURS[match.unit] / HOURS[unit] if match.unit != unit else Decimal(1)
            used.append((match, factor))
        else:
            if not left:  # every quantity asked is priced: none is silently dropped
                return UnitLine(price, tuple(used))
    return None


_SURCHARGE = re.compile(  # "1.1x the list price", "a 10% upcharge", "a surcharge of 20%"
    r"(?P<times>\d+(?:\.\d+)?)\s?[×x]\s+(?:the\s+)?(?:(?:base|list|standard|regular|normal)\s+)?"
    r"(?:price|rate|pricing|cost)s?\b"
    r"|(?P<percent>\d+(?:\.\d+)?)\s?%\s+(?:upcharge|surcharge|premium|uplift|mark-?up)"
    r"|(?:upcharge|surcharge|premium|uplift|mark-?up)\s+of\s+(?P<percent_b>\d+(?:\.\d+)?)\s?%",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Surcharge:
    factor: Decimal  # 1.10 for "a 10% upcharge" or "1.1×"
    written: str  # "10% upcharge", "1.1×"
    candidate: Candidate


def surcharge(
    question_terms: set[str], candidates: list[Candidate], priced: list[Candidate]
) -> Surcharge | None:
    """A surcharge ("1.1× the list price", "a 10% upcharge") the question's own condition
    brings in: its sentence shares a word with the question that the sentences giving the
    prices lack ("Regional deployments carry a 10% upcharge" for a question about a regional
    deployment). `question_terms` are the terms of the conditions the question states, not
    of those it rules out ("without weekend coverage")."""
    plain = set().union(*(terms(c.sentence.text) for c in priced)) if priced else set()
    for candidate in candidates:
        text = candidate.sentence.text
        match = _SURCHARGE.search(text)
        if not match or not (question_terms & set(terms(text))) - plain:
            continue
        if match.group("times"):
            factor = Decimal(match.group("times"))
        else:
            factor = 1 + Decimal(match.group("percent") or match.group("percent_b")) / 100
        if 1 < factor <= 10:
            return Surcharge(factor, match.group().strip(), candidate)
    return None
