"""Relevance gates derived for the embedding model and corpus in use, not fitted constants.

Cosine similarities mean different things to different models: multilingual-e5 puts almost
any two texts above 0.7, all-MiniLM puts unrelated texts near 0.1. A fixed threshold fitted
to one model refuses everything with the other. Even one model's absolute cosines do not
separate: with e5 an Italian question about encryption keys is no closer to the documents
(0.82) than an English one about sunburn (0.84). What separates is whether a question is
closer to the corpus than to questions about something else. So the gates are measured:

1. Embed the off-domain probes below: questions people ask that no procurement document of an
   AI vendor answers (cooking, sport, travel, health, …, in English, French, German, Italian
   and Spanish). They name nothing of any corpus.
2. For each probe, read the three figures the answerer gates on: the cosine with the nearest
   document centroid (`domain`), the best passage's cosine (`passage`) and the best unit's
   cosine among the units of the retrieved passages (`unit`), each less the probe's cosine
   with the nearest *other* probe in the documents' languages: its lead over the off-domain
   questions (leave-one-out, so that each probe stands for an off-domain question the list
   does not hold; in the documents' languages, because e5 puts a French question nearer a
   French recipe question than English documents on its very subject).
3. Each gate is the highest lead a probe reached, plus MARGIN of the spread between the
   probes' median and that highest lead. A question is off the corpus's subject
   (`Gates.off_subject`) when its lead on every document's subject is no larger than some
   probe's, or when neither its best passage's nor its best unit's lead is. (One named place
   or company the corpus happens to mention, "the weather in Paris", brings a passage
   close; the words the documents never use then refuse it, see `attributes`.)

`procurebot calibrate` prints the gates and each probe's figures; the engine derives them
when it opens an index and again after a re-index (about 40 embeddings and searches).
Measured on the development corpora (`procurebot eval`): with multilingual-e5 the probes'
leads on the documents' subject reach 0.008 and the questions' start at 0.021; with
all-MiniLM, -0.06 and 0.02 for English questions.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

import numpy as np

PROBES_BY_LANGUAGE = {
    "en": (
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
        "Will it rain in London tomorrow afternoon?",
        "What time does the last train to Berlin leave tonight?",
        "How do I solve a quadratic equation?",
        "Who is the lead singer of Coldplay?",
        "How do I remove a red wine stain from a carpet?",
        "What is a good name for a golden retriever puppy?",
    ),
    "fr": (
        "Quelle est la meilleure recette de ratatouille ?",
        "Qui a gagné le Tour de France l'année dernière ?",
        "Comment soigner un rhume rapidement ?",
        "Quels sont les horaires d'ouverture du Louvre ?",
        "Quel temps fera-t-il à Lyon ce week-end ?",
    ),
    "de": (
        "Wie backe ich einen Apfelstrudel?",
        "Wer hat die Fußball-Bundesliga gewonnen?",
        "Wie pflege ich eine Orchidee richtig?",
        "Welche Wanderwege gibt es im Schwarzwald?",
        "Wie wird das Wetter am Wochenende in München?",
    ),
    "it": (
        "Come si prepara un buon risotto ai funghi?",
        "Chi ha vinto il Giro d'Italia?",
        "Qual è il periodo migliore per visitare la Sicilia?",
        "Come si cura una pianta di basilico?",
    ),
    "es": (
        "¿Cómo se prepara una paella valenciana?",
        "¿Quién ganó la liga de fútbol española?",
        "¿Cuál es la mejor época para visitar Andalucía?",
        "¿Cómo se cuida un gato recién adoptado?",
    ),
}
PROBES = tuple(probe for probes in PROBES_BY_LANGUAGE.values() for probe in probes)
MARGIN = 0.05  # of the spread between the probes' median and their highest value


@dataclass(frozen=True)
class Probe:
    """What one question reached: cosine with the nearest document centroid, with the best
    passage and with the best unit, and its vector (unit length)."""

    question: str
    vector: tuple[float, ...]
    domain: float
    passage: float
    unit: float


@dataclass(frozen=True)
class Lead:
    """How much closer a question is to the corpus than to the nearest off-domain question:
    each figure of its `Probe` less that cosine."""

    domain: float
    passage: float
    unit: float


@dataclass(frozen=True)
class Gates:
    """The least lead (`Lead`) a question needs on the corpus (`domain`), its best passage
    (`passage`) and its best unit (`unit`) to be answered; `probes` and `leads` show where
    they came from, `vectors` are the probes' (one row each, unit length)."""

    domain: float
    passage: float
    unit: float
    probes: tuple[Probe, ...] = ()
    leads: tuple[Lead, ...] = ()
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), compare=False)

    def lead(self, vector: Sequence[float], domain: float, passage: float, unit: float) -> Lead:
        """The question's lead over the nearest probe (0 subtracted when there is none)."""
        nearest = float((self.vectors @ _unit_length(vector)).max()) if len(self.vectors) else 0.0
        return Lead(domain - nearest, passage - nearest, unit - nearest)

    def off_subject(
        self, vector: Sequence[float], domain: float, passage: float, unit: float
    ) -> bool:
        """Whether the question is no closer to any document's subject than off-domain
        questions are, or neither its best passage nor its best unit is."""
        lead = self.lead(vector, domain, passage, unit)
        return lead.domain < self.domain or (lead.passage < self.passage and lead.unit < self.unit)


OPEN = Gates(domain=-2.0, passage=-2.0, unit=-2.0)  # nothing to measure against: no gate

Measure = Callable[[str], Probe]


def calibrate(
    measure: Measure,
    probes: Sequence[str] = PROBES,
    reference: Collection[str] | None = None,
) -> Gates:
    """The gates from `measure(probe)` for every probe (see the module's docstring).

    `reference` holds the probes a lead is measured against (default: all): those in the
    documents' own languages (`reference_probes`), so that a question in another language is
    compared with texts as foreign to it as the documents are, not with probes that share
    only its language."""
    measured = tuple(measure(question) for question in probes)
    kept = [i for i, p in enumerate(probes) if reference is None or p in reference]
    if len(measured) < 2 or not kept:
        return OPEN
    vectors = np.stack([_unit_length(p.vector) for p in measured])
    similar = vectors @ vectors[kept].T
    for column, row in enumerate(kept):
        similar[row, column] = -np.inf  # leave one out: a probe's nearest is another probe
    nearest = similar.max(axis=1)
    leads = tuple(
        Lead(p.domain - n, p.passage - n, p.unit - n)
        for p, n in zip(measured, nearest.tolist(), strict=True)
    )
    return Gates(
        domain=_gate([lead.domain for lead in leads]),
        passage=_gate([lead.passage for lead in leads]),
        unit=_gate([lead.unit for lead in leads]),
        probes=measured,
        leads=leads,
        vectors=vectors[kept],
    )


def reference_probes(languages: Collection[str]) -> tuple[str, ...]:
    """The probes in the given languages (the documents'); all when none of them has probes."""
    chosen = tuple(p for language in languages for p in PROBES_BY_LANGUAGE.get(language, ()))
    return chosen or PROBES


def _unit_length(vector: Sequence[float]) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float64)
    norm = float(np.linalg.norm(array))
    return array / norm if norm else array


def _gate(values: list[float]) -> float:
    highest = max(values)
    return highest + MARGIN * (highest - statistics.median(values))


def to_text(gates: Gates, model: str) -> str:
    """The gates and every probe's figures, as `procurebot calibrate` prints them."""
    lines = [
        f"Relevance gates for {model} (from {len(gates.probes)} off-domain probes),",
        "as leads over the nearest off-domain question's cosine:",
        f"  domain  {gates.domain:+.4f}   on the nearest document centroid",
        f"  passage {gates.passage:+.4f}   on the best passage",
        f"  unit    {gates.unit:+.4f}   on the best quotable unit",
        "",
        "  cosines (domain passage unit) · leads (domain passage unit) · probe",
    ]
    rows = sorted(zip(gates.probes, gates.leads, strict=True), key=lambda row: -row[1].domain)
    for probe, lead in rows:
        lines.append(
            f"  {probe.domain:.4f} {probe.passage:.4f} {probe.unit:.4f} · "
            f"{lead.domain:+.4f} {lead.passage:+.4f} {lead.unit:+.4f} · {probe.question}"
        )
    return "\n".join(lines)
