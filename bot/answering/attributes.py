"""What a question asks for that the documents never mention: a reason to say they are silent.

"What liability cap does the vendor accept?" over documents that never say "liability" is
close to them in meaning (a vendor, a limit, acceptance), so similarity alone quotes a price
or a deprecation note. What decides is whether the documents use the question's own specific
words at all. The words that count are those of the question proper (the sentences that ask,
not the preamble that sets the scene), without function words and without the words common in
any English text (a Zipf frequency of 5 or more in wordfreq's English lists: "keep", "sit",
"old"), which people use to phrase a question, not to name what they want. Each word weighs by how
rare it is in English (COMMON_ZIPF less its Zipf frequency: "indemnify" 2.4, "vendor" 1.2,
"payment" 0.3). When the words the corpus never uses (no chunk holds their keyword stem) carry
at least UNMENTIONED_SHARE of that weight, the question asks about something the documents do
not cover.

Only English questions are judged this way: the corpus's words are compared with the
question's, and a question in another language shares few words with English documents
whatever it asks (the embedding gates still apply to it).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from bot.answering.keywords import STOPWORDS, stem, words

COMMON_ZIPF = 5.0  # wordfreq's Zipf scale: 5 is once per 100,000 words of English
UNMENTIONED_SHARE = 0.7
MIN_WORDS = 2  # a question with fewer specific words says too little to judge
SUBJECT_SHARE = 0.15  # a word in this share of the chunks or more names the corpus's subject
# Words by which buyers name the parties and the offer itself, whatever the corpus: "the
# vendor", "our supplier". They name who is asked, not what.
_ROLES = "vendor supplier provider customer company buyer client service offering product"
ROLE_WORDS = frozenset(word + plural for word in _ROLES.split() for plural in ("", "s"))

_SENTENCE = re.compile(r"(?:[^.?!]|\.(?=\d))*\?")  # "3.1" ends no sentence


@functools.lru_cache(maxsize=50_000)
def zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


def common(word: str) -> bool:
    return zipf(word) >= COMMON_ZIPF


def specific_words(question: str) -> list[str]:
    """The words of the question proper that name what it asks for (see the docstring)."""
    asking = " ".join(_SENTENCE.findall(question)) or question
    return [
        word
        for word in dict.fromkeys(words(asking))
        if word not in STOPWORDS
        and len(word) > 1
        and not any(ch.isdigit() for ch in word)
        and not common(word)
    ]


def asked_but_unmentioned(question: str, language: str, share: Callable[[str], float]) -> list[str]:
    """The question's specific words that the corpus never uses, when they carry at least
    UNMENTIONED_SHARE of the weight; [] when the documents may well answer. `share(term)` is
    the share of the corpus's chunks that hold a keyword term (`keywords.terms`): 0 for a
    term the corpus never uses. Words most chunks hold name the corpus's own subject (its
    vendor, its product) and tell nothing about what is asked of it: they do not count."""
    if language != "en":
        return []
    specific = [
        word
        for word in specific_words(question)
        if word not in ROLE_WORDS and share(stem(word)) < SUBJECT_SHARE
    ]
    if len(specific) < MIN_WORDS:
        return []
    weight = {word: COMMON_ZIPF - zipf(word) for word in specific}
    missing = [word for word in specific if share(stem(word)) == 0]
    unmentioned = sum(weight[word] for word in missing) / sum(weight.values())
    return missing if unmentioned >= UNMENTIONED_SHARE else []
