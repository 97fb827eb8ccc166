"""Relevance gates derived for the embedding model and corpus in use, not fitted constants.

Cosine similarities mean different things to different models: multilingual-e5 puts almost
any two texts above 0.7, all-MiniLM puts unrelated texts near 0.1. A fixed threshold fitted
to one model refuses everything with the other. So the gates are measured:

1. Embed the off-domain probes below: questions people ask that no procurement document of an
   AI vendor answers (cooking, sport, travel, health, …, in English, French, German, Italian
   and Spanish). They name nothing of any corpus.
2. For each probe, read the three figures the answerer gates on: the cosine with the nearest
   document centroid (`domain`), the best passage's cosine (`passage`) and the best unit's
   cosine among the units of the retrieved passages (`unit`).
3. Each gate is the highest value a probe reached, plus MARGIN of the spread between the
   probes' median and that highest value. A question is off the corpus's subject
   (`off_subject`) when it is further from every document's subject than some question about
   something else, or when neither its best passage nor its best unit is closer than theirs.
   (One named place or company the corpus happens to mention, "the weather in Paris", brings
   a passage close; the documents' subjects stay far.)

`procurebot calibrate` prints the gates and each probe's figures; the engine derives them
when it opens an index and again after a re-index (about 40 embeddings and searches).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

PROBES = (
    "What is the best way to bake sourdough bread at home?",
    "Who won the 2022 FIFA World Cup final?",
    "How many calories are in a banana?",
    "What is the capital city of Australia?",
    "How do I treat a mild sunburn?",
    "Which hiking trails are best in the Alps in autumn?",
    "How long should I boil an egg for a soft yolk?",
    "What is the plot of Shakespeare's Hamlet?",
    "How do I change a flat tyre on a bicycle?",
    "When do tulips bloom in the Netherlands?",
    "What are the rules of cricket?",
    "How do I get rid of aphids on roses?",
    "Who painted the Mona Lisa?",
    "What is a good stretching routine after running?",
    "How do you play the guitar chord G major?",
    "What should I pack for a beach holiday with children?",
    "Why is the sky blue?",
    "How do I train my puppy to sit?",
    "Which wine goes well with grilled fish?",
    "How tall is Mount Everest?",
    "Quelle est la meilleure recette de ratatouille ?",
    "Qui a gagné le Tour de France l'année dernière ?",
    "Comment soigner un rhume rapidement ?",
    "Quels sont les horaires d'ouverture du Louvre ?",
    "Wie backe ich einen Apfelstrudel?",
    "Wer hat die Fußball-Bundesliga gewonnen?",
    "Wie pflege ich eine Orchidee richtig?",
    "Welche Wanderwege gibt es im Schwarzwald?",
    "Come si prepara un buon risotto ai funghi?",
    "Chi ha vinto il Giro d'Italia?",
    "Qual è il periodo migliore per visitare la Sicilia?",
    "Come si cura una pianta di basilico?",
    "¿Cómo se prepara una paella valenciana?",
    "¿Quién ganó la liga de fútbol española?",
    "¿Cuál es la mejor época para visitar Andalucía?",
    "¿Cómo se cuida un gato recién adoptado?",
)
MARGIN = 0.05  # of the spread between the probes' median and their highest value


@dataclass(frozen=True)
class Probe:
    """What one probe question reached: cosine with the nearest document centroid, with the
    best passage and with the best unit."""

    question: str
    domain: float
    passage: float
    unit: float


@dataclass(frozen=True)
class Gates:
    """The least cosine a question needs with the corpus (`domain`), its best passage
    (`passage`) and its best unit (`unit`) to be answered; `probes` shows where they came from.
    """

    domain: float
    passage: float
    unit: float
    probes: tuple[Probe, ...] = ()


def off_subject(gates: Gates, domain: float, passage: float, unit: float) -> bool:
    """Whether the question is about something else than any document of the corpus (their
    centroids), or nothing in the corpus comes close to it (neither passage nor unit)."""
    return domain < gates.domain or (passage < gates.passage and unit < gates.unit)


OPEN = Gates(domain=-1.0, passage=-1.0, unit=-1.0)  # nothing to measure against: no gate

Measure = Callable[[str], Probe]


def calibrate(measure: Measure, probes: Sequence[str] = PROBES) -> Gates:
    """The gates from `measure(probe)` for every probe (see the module's docstring)."""
    measured = tuple(measure(question) for question in probes)
    if not measured:
        return OPEN
    return Gates(
        domain=_gate([p.domain for p in measured]),
        passage=_gate([p.passage for p in measured]),
        unit=_gate([p.unit for p in measured]),
        probes=measured,
    )


def _gate(values: list[float]) -> float:
    highest = max(values)
    return highest + MARGIN * (highest - statistics.median(values))


def to_text(gates: Gates, model: str) -> str:
    """The gates and every probe's figures, as `procurebot calibrate` prints them."""
    lines = [
        f"Relevance gates for {model} (from {len(gates.probes)} off-domain probes):",
        f"  domain  {gates.domain:.4f}   cosine with the nearest document centroid",
        f"  passage {gates.passage:.4f}   cosine of the best passage",
        f"  unit    {gates.unit:.4f}   cosine of the best quotable unit",
        "",
        "  domain  passage unit    probe",
    ]
    for probe in sorted(gates.probes, key=lambda p: -p.passage):
        lines.append(
            f"  {probe.domain:.4f}  {probe.passage:.4f}  {probe.unit:.4f}  {probe.question}"
        )
    return "\n".join(lines)
