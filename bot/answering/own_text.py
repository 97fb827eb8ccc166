"""What procurebot writes around the quotes, whichever backend answers.

The framing and "not answered" lines in the question's language, the registry that numbers
citations, and the sections computed from cited sources: a cost estimate with its formula,
the availability status as of today, and the sources' disagreements.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.answering.answers import Answer, Citation, Claim, Conflict
from bot.answering.facts.conflicts import FoundConflict
from bot.answering.facts.costs import HOURS, Line, Surcharge, UnitLine, money
from bot.answering.facts.timeline import Event, Replacement
from bot.answering.retrieval import Candidate

FRAMING = {
    "en": "The documents say:",
    "fr": "Selon les documents :",
    "de": "Laut den Dokumenten:",
    "it": "Secondo i documenti:",
    "es": "Según los documentos:",
}
DISAGREE = {
    "en": "The sources disagree on {topic}; vendor documentation and newer sources weigh more:",
    "fr": "Les sources se contredisent ({topic}) ; la documentation du fournisseur et les sources "
    "récentes priment :",
    "de": "Die Quellen widersprechen sich ({topic}); Herstellerdokumentation und neuere Quellen "
    "wiegen schwerer:",
    "it": "Le fonti non concordano ({topic}); la documentazione del fornitore e le fonti più "
    "recenti pesano di più:",
    "es": "Las fuentes no coinciden ({topic}); la documentación del proveedor y las fuentes más "
    "recientes pesan más:",
}
ESTIMATE = {
    "en": "Estimate from the cited prices:",
    "fr": "Estimation à partir des prix cités :",
    "de": "Schätzung aus den zitierten Preisen:",
    "it": "Stima dai prezzi citati:",
    "es": "Estimación a partir de los precios citados:",
}
NOT_ANSWERED = {
    "en": "The documents do not answer this question.",
    "fr": "Les documents ne répondent pas à cette question.",
    "de": "Die Dokumente beantworten diese Frage nicht.",
    "it": "I documenti non rispondono a questa domanda.",
    "es": "Los documentos no responden a esta pregunta.",
}


def not_answered(
    question: str, language: str, backend: str, model: str, notices: tuple[str, ...] = ()
) -> Answer:
    """ "The documents do not answer this question", in the question's language, citing nothing."""
    return Answer(
        question=question,
        answer=NOT_ANSWERED.get(language, NOT_ANSWERED["en"]),
        backend=backend,
        model=model,
        grounded=False,
        notices=notices,
        language=language,
    )


class Citations:
    """Numbers citations in order of first use; citing a sentence twice reuses its number."""

    def __init__(self) -> None:
        self._numbers: dict[tuple[str, int, int], int] = {}
        self._citations: list[Citation] = []

    def add(self, candidate: Candidate) -> int:
        sentence = candidate.sentence
        key = (sentence.source, sentence.start, sentence.end)
        if key not in self._numbers:
            self._numbers[key] = len(self._citations) + 1
            self._citations.append(_citation(self._numbers[key], candidate))
        return self._numbers[key]

    @property
    def citations(self) -> tuple[Citation, ...]:
        return tuple(self._citations)


def estimate_section(
    lines: list[Line], cited: Citations, language: str, extra: Surcharge | None = None
) -> str:
    rows = [ESTIMATE.get(language, ESTIMATE["en"])]
    for line in lines:
        n = cited.add(line.price.candidate)
        rate = money(line.price.currency, line.price.per_million)
        rows.append(
            f"- {line.direction}: {line.tokens:,} tokens / 1,000,000 × {rate} [{n}] = "
            f"{money(line.price.currency, line.amount)}"
        )
    currencies = {line.price.currency for line in lines}
    total = sum((line.amount for line in lines), start=lines[0].amount * 0)
    if len(lines) > 1 and len(currencies) == 1:
        added = " + ".join(money(line.price.currency, line.amount) for line in lines)
        rows.append(f"- total: {added} = **{money(lines[0].price.currency, total)}**")
    if extra and len(currencies) == 1:
        rows.append(_surcharge_row(total, lines[0].price.currency, extra, cited))
    return "\n".join(rows)


def _surcharge_row(total: Decimal, currency: str, extra: Surcharge, cited: Citations) -> str:
    """ "- with the 10% upcharge [3]: USD 8.00 × 1.10 = **USD 8.80**"."""
    n = cited.add(extra.candidate)
    charged = (total * extra.factor).quantize(Decimal("0.01"))
    return (
        f"- with the {extra.written} [{n}]: {money(currency, total)} × {extra.factor:.2f} = "
        f"**{money(currency, charged)}**"
    )


def unit_estimate_section(
    line: UnitLine, cited: Citations, language: str, extra: Surcharge | None = None
) -> str:
    """ "- 90 days × 24 hours/day × USD 1.70 per hour [1] = **USD 3,672.00**"."""
    price = line.price
    factors = []
    for quantity, factor in line.quantities:
        written = f"{quantity.number.normalize():,f} {_plural(quantity.unit, quantity.number)}"
        if factor != 1:
            target = next(u for u in price.units if u in HOURS)
            written += f" × {factor:.4g} {_plural(target, factor)}/{quantity.unit}"
        factors.append(written)
    rate = f"{money(price.currency, price.amount)} per {' per '.join(price.units)}"
    n = cited.add(price.candidate)
    total = money(price.currency, line.amount)
    rows = [ESTIMATE.get(language, ESTIMATE["en"])]
    rows.append(f"- {' × '.join(factors)} × {rate} [{n}] = **{total}**")
    if extra:
        rows.append(_surcharge_row(line.amount, price.currency, extra, cited))
    return "\n".join(rows)


def _plural(unit: str, number: Decimal) -> str:
    return unit if number == 1 else f"{unit}s"


STATUS = {
    "en": (
        "Status as of {today}: retired on {on} [{n}], so it can no longer be called.",
        "Status as of {today}: {kind} since {on} [{n}].",
        "Planned: {kind} on {on} [{n}] (after {today}).",
        "Current model ids named by the sources: {ids}.",
        {"deprecated": "deprecated", "retired": "retired"},
    ),
    "fr": (
        "État au {today} : retiré le {on} [{n}], il ne peut plus être appelé.",
        "État au {today} : {kind} depuis le {on} [{n}].",
        "Prévu : {kind} le {on} [{n}] (après le {today}).",
        "Identifiants actuels cités par les sources : {ids}.",
        {"deprecated": "déprécié", "retired": "retiré"},
    ),
    "de": (
        "Stand {today}: am {on} abgeschaltet [{n}], kann nicht mehr aufgerufen werden.",
        "Stand {today}: {kind} seit {on} [{n}].",
        "Geplant: {kind} am {on} [{n}] (nach {today}).",
        "Aktuelle Modell-IDs laut den Quellen: {ids}.",
        {"deprecated": "als veraltet markiert", "retired": "abgeschaltet"},
    ),
    "it": (
        "Stato al {today}: ritirato il {on} [{n}], non può più essere chiamato.",
        "Stato al {today}: {kind} dal {on} [{n}].",
        "Previsto: {kind} il {on} [{n}] (dopo il {today}).",
        "ID di modello attuali indicati dalle fonti: {ids}.",
        {"deprecated": "deprecato", "retired": "ritirato"},
    ),
    "es": (
        "Estado a {today}: retirado el {on} [{n}], ya no se puede llamar.",
        "Estado a {today}: {kind} desde el {on} [{n}].",
        "Previsto: {kind} el {on} [{n}] (después del {today}).",
        "ID de modelo actuales según las fuentes: {ids}.",
        {"deprecated": "obsoleto", "retired": "retirado"},
    ),
}


def status_section(
    happened: list[Event],
    current: list[Replacement],
    today: date,
    cited: Citations,
    language: str,
) -> str:
    """Where the model stands today, from the dated events the sources cite."""
    retired_line, since_line, planned_line, current_line, kinds = STATUS.get(language, STATUS["en"])

    def row(template: str, event: Event) -> str:
        return "- " + template.format(
            today=today.isoformat(),
            on=event.on.isoformat(),
            n=cited.add(event.candidate),
            kind=kinds[event.kind],
        )

    past = [e for e in happened if e.on <= today]
    retired = [e for e in past if e.kind == "retired"]
    rows = []
    if past:
        rows.append(row(retired_line if retired else since_line, (retired or past)[-1]))
    rows += [row(planned_line, event) for event in happened if event.on > today]
    if current and past:
        ids = ", ".join(f"`{r.model_id}` [{cited.add(r.candidate)}]" for r in current)
        rows.append("- " + current_line.format(ids=ids))
    return "\n".join(rows)


SIDE_CITATIONS = 2  # citations shown for each side of a conflict


def conflict_section(found: FoundConflict, cited: Citations, language: str) -> tuple[str, Conflict]:
    lines = [DISAGREE.get(language, DISAGREE["en"]).format(topic=found.topic.name)]
    claims = []
    for side in found.sides:
        refs = []
        for candidate in side.candidates[:SIDE_CITATIONS]:
            n = cited.add(candidate)
            chunk = candidate.passage.chunk
            refs.append(f"{chunk.kind}, {chunk.date or 'undated'} [{n}]")
            claims.append(Claim(n, side.label))
        lines.append(f"- **{side.label}**: " + "; ".join(refs))
    return "\n".join(lines), Conflict(found.topic.name, tuple(claims))


def _citation(n: int, candidate: Candidate) -> Citation:
    chunk, sentence = candidate.passage.chunk, candidate.sentence
    return Citation(
        n=n,
        source=sentence.source,
        title=chunk.title,
        kind=chunk.kind,
        date=chunk.date,
        quote=sentence.text,
        start=sentence.start,
        end=sentence.end,
        sha256=chunk.sha256,
        chunk_id=chunk.id,
        opinion=chunk.kind == "community",
        page=sentence.page or None,
    )
