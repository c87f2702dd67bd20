"""When the FAQ matcher accepts its best entry: the thresholds, the words of this skill's domain, and the rule.

The matcher ranks entries (matcher.py); an entry it ranks best is still declined unless its
phrasing is similar enough and it accounts for enough of the question's telling words, or the
question holds one of its phrasings, or explains itself in words of the domain (see `accepted`).
"""

from __future__ import annotations

from skill.core.faq.text import stem

MIN_SIMILARITY = 60.0
"""The chosen entry's closest phrasing must be at least this similar to the question (0 to 100)."""
MIN_COVERED = 0.4
"""At least this share of the question's topic words, each weighted by how telling it is, must be
accounted for by the chosen entry: 'book me a massage appointment' shares only 'massage'."""
COVERED_WORDS = 5
"""The share above is asked of questions up to this many topic words. A longer, chattier question
("started a new job lifting boxes and my upper back is killing me, what massage is best") tells
its story in words no entry uses, so it needs the entry to account for about as many telling
words as a short question holds, not the same share..."""
MIN_COVERED_LONG = 0.15
"""...and never less than this share."""
CONTAINED = 0.85
"""A long question that tells a story around its question ("I'm a hairdresser, on my feet all day,
how can I give myself a neck massage at the end of a shift") is also accepted when it holds at
least this share of one of the entry's phrasings, each word weighted by how telling it is..."""
CONTAINED_WEIGHT = 2.5
"""...and the words it holds weigh at least this much (two words that several entries share will do), one a
word about backs, necks, massage or stretching."""
EXPLAINED = 0.5
"""A question of at least EXPLAINED_WORDS topic words, at least this share of them (weighted)
explained by the entry, one of them a word of this skill's domain, needs its phrasing similarity
only to reach EXPLAINED_SIMILARITY: a long question is never very like a short phrasing letter by
letter ("what height should my monitor be to stop my neck and back hurting")."""
EXPLAINED_WORDS = 5
EXPLAINED_SIMILARITY = 45.0
"""The phrasing similarity that a question so explained needs."""

DOMAIN = frozenset(
    stem(w)
    for w in """back backs neck necks shoulder shoulders spine spinal lumbar muscle muscles knot knots
    massage massages massaging massager masseuse therapist stretch stretches stretching stretched
    foam roller rolling roll posture pain pains painful ache aches aching sore soreness stiff
    stiffness tight tightness tense tension spasm spasms strain strained pulled injury trigger
    shiatsu swedish stone stones tissue ball tennis lacrosse gun theragun percussion ice heat
    heating warm cold mattress pillow sleep slouch slouching desk chiropractor physiotherapy
    physical therapy blade blades hip hips head headache headaches tool tools flexible flexibility crack
    cracking bend bending lift lifting laptop sitting standing warmup sciatica hot bottle bath shower
    osteoporosis pregnant pregnancy yoga pilates hamstring hamstrings exercise exercises workout bruise
    bruising dizzy decompression oil lotion wrap pad bounce bouncing""".split()
)
"""Stems that show a question is about what this skill covers, even when no entry fits it."""


def accepted(score: float, threshold: float, similar: float, covered: float, words: int,
             contained: tuple[float, float, bool], domain_explained: bool) -> bool:
    """Whether the best entry answers the question.

    `score` is its rank and `similar` its closest phrasing's similarity (0 to 100), `covered` the
    weighted share of the question's `words` topic words it explains, `contained` how much of its
    most fully held phrasing the question holds (share, weight, a domain word among them), and
    `domain_explained` whether a word of the domain is among those it explains fully.
    """
    least = max(MIN_COVERED_LONG, MIN_COVERED * min(1.0, COVERED_WORDS / max(words, 1)))
    if score >= threshold and similar >= MIN_SIMILARITY and covered >= least:
        return True
    share, weight, about_domain = contained
    if share >= CONTAINED and weight >= CONTAINED_WEIGHT and about_domain:
        return True
    explained = covered >= EXPLAINED and words >= EXPLAINED_WORDS and domain_explained
    return explained and similar >= EXPLAINED_SIMILARITY
