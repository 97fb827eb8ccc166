"""Which language a text is written in, among the official languages of the EU.

py3langid (a maintained port of langid.py, its model inside the package) decides, restricted
to the EU's languages, on the text without its ids and numbers (they carry no language); a
text too short or too mixed for it to be sure ("And for 3.1?") is taken to be in `default`.
"""

from __future__ import annotations

import functools
import re
import threading
from typing import Any

EU_LANGUAGES = [
    "bg",
    "cs",
    "da",
    "de",
    "el",
    "en",
    "es",
    "et",
    "fi",
    "fr",
    "ga",
    "hr",
    "hu",
    "it",
    "lt",
    "lv",
    "mt",
    "nl",
    "pl",
    "pt",
    "ro",
    "sk",
    "sl",
    "sv",
]
# py3langid's normalised probability: the first language is taken when it reaches
# MIN_CONFIDENCE, or MIN_LEAD_CONFIDENCE and LEAD times the second's (a short question shares
# its few words with neighbouring languages: "Kann man … selbst hosten?" is de 0.36, da 0.11).
MIN_CONFIDENCE, MIN_LEAD_CONFIDENCE, LEAD = 0.6, 0.25, 2.0
SAMPLE_CHARS = 5000  # of a document, enough to tell its language

# Words that carry no language: ids, version numbers, amounts.
_NO_LANGUAGE = re.compile(r"\S*\d\S*|`[^`]*`")
_WORD = re.compile(r"[^\W\d_]{2,}")
MIN_WORDS = 3  # fewer words than this carry too little to tell a language by
_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(EU_LANGUAGES)
    return identifier


def guess_language(text: str, default: str = "en") -> str:
    """The ISO 639-1 code of the text's language, or `default` when py3langid is not sure."""
    sample = _NO_LANGUAGE.sub(" ", text[:SAMPLE_CHARS])
    if len(_WORD.findall(sample)) < MIN_WORDS:
        return default
    with _lock:  # the identifier is not documented as thread-safe
        ranked = _identifier().rank(sample)
    (language, first), (_, second) = ranked[0], ranked[1]
    sure = first >= MIN_CONFIDENCE or (first >= MIN_LEAD_CONFIDENCE and first >= LEAD * second)
    return str(language) if sure else default
