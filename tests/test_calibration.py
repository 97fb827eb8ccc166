"""The relevance gates: leads over the nearest off-domain probe, not absolute cosines."""

from __future__ import annotations

import numpy as np
import pytest

from bot.answering.calibration import OPEN, Probe, calibrate

# Three off-domain probes pointing one way, with the cosines they reach in an imagined corpus.
PROBES = {
    "cooking": ((1.0, 0.1, 0.0), 0.84),
    "sport": ((1.0, -0.1, 0.0), 0.83),
    "travel": ((1.0, 0.0, 0.1), 0.82),
}


def measure(question: str) -> Probe:
    vector, cosine = PROBES[question]
    unit = np.asarray(vector) / np.linalg.norm(vector)
    return Probe(question, tuple(unit.tolist()), cosine, cosine - 0.01, cosine - 0.02)


def test_gates_are_the_highest_lead_of_a_probe_over_the_other_probes() -> None:
    gates = calibrate(measure, tuple(PROBES))
    # "cooking" is 0.9901 from "travel" and 0.9803 from "sport": its lead is 0.84 - 0.9901.
    leads = sorted(lead.domain for lead in gates.leads)
    assert leads[-1] == pytest.approx(0.84 - 0.990099, abs=1e-5)
    assert gates.domain >= leads[-1] and gates.passage >= max(x.passage for x in gates.leads)


def test_a_question_far_from_the_probes_is_on_subject_with_a_lower_cosine_than_theirs() -> None:
    gates = calibrate(measure, tuple(PROBES))
    elsewhere = (0.0, 1.0, 0.0)  # nothing like the probes; the corpus is only 0.80 away
    assert not gates.off_subject(elsewhere, 0.80, 0.79, 0.78)


def test_a_question_like_a_probe_is_off_subject_with_a_higher_cosine_than_theirs() -> None:
    gates = calibrate(measure, tuple(PROBES))
    like_cooking = (1.0, 0.09, 0.0)
    assert gates.off_subject(like_cooking, 0.85, 0.84, 0.83)


def test_without_probes_nothing_is_gated() -> None:
    assert calibrate(measure, ()) is OPEN
    assert not OPEN.off_subject((1.0, 0.0), -1.0, -1.0, -1.0)
