"""Quick answers: validated entries from data/faq and a matcher from question text to the best one.

`text` normalises words, `entries` loads and checks the data, `alarms` reads red-flag keywords,
`matcher` ranks entries for a question (its docstring says how) and `acceptance` decides whether
the best one answers it.
"""

from skill.core.faq.alarms import Alarm
from skill.core.faq.entries import MAX_ANSWER_WORDS, MAX_MORE_WORDS, Entry, load_entries, load_heard
from skill.core.faq.matcher import THRESHOLD, Match, Matcher, default_matcher, matcher_for
from skill.core.faq.text import FaqError, Normalizer, content, load_discomfort, load_negation, load_synonyms, words

__all__ = [
    "MAX_ANSWER_WORDS", "MAX_MORE_WORDS", "THRESHOLD", "Alarm", "Entry", "FaqError", "Match", "Matcher",
    "Normalizer", "content", "default_matcher", "load_discomfort", "load_entries", "load_heard", "load_negation", "load_synonyms", "matcher_for", "words",
]
