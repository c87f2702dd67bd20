"""Question text as the matcher reads it: words, stopwords, light stemming, synonyms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from skill.core.datafiles import DATA_DIR, DataFileError, load_yaml
from skill.core.words import words

MAX_QUESTION_CHARS = 300
"""Longer input is cut: nobody asks a spoken question this long, and matching stays fast."""

# Words that carry no topic: question frames, fillers and pronouns. Removing them keeps
# "what is the weather" from matching "what is shiatsu".
STOPWORDS = frozenset(
    """a about actually after all also am an and any anyone anything are as at be been being but by can
    could do does doing did done for from get gets getting got go going gone had has have having how
    i i'd i'll i'm i've if in into is it it's its just kind like me might more most much my myself
    no not of off on or our out over please really should so some something such tell than that that's
    the their them then there there's these they thing things this those to too um uh er erm up us
    very was we were what what's when where which while who whom why will with would you your you're
    yourself okay ok alexa hey best good bad way ways right now lot lots bit sort well yeah yes know
    want need needs needed try trying give show teach explain let let's say said sure maybe one ones
    am can't cannot don't doesn't isn't aren't i'd shall may must quite pretty still ever even
    already always someone somebody feel feels feeling felt something anybody else here make makes made
    think thought guess wonder wondering wondered happen happens happened expect matter matters anymore
    he she him her his hers they mum mom dad mother father wife husband partner friend son daughter
    mate mates bro dude guys grandson granddaughter nan gran grandma grandpa grandad kids kid baby boss
    says said say told tells tell saying mentioned reckons reckon heard apparently supposedly
    stuff thingy whatever bloody dodgy super totally literally basically honestly seriously anyway
    """.split()
)
"""Words dropped before matching (after synonyms, so "can't feel" can still become "numb")."""

_KEEP_ENDINGS = ("ss", "us", "is", "ous")


def stem(word: str) -> str:
    """Light suffix stripping so 'stretches', 'stretching' and 'stretched' meet at 'stretch'.

    Hand-written on purpose, not PyStemmer's Snowball: Snowball also strips derivational endings
    ('painful' -> 'pain', 'numbness' -> 'numb', 'position' -> 'posit'), which merges words the
    red-flag patterns and entries keep apart. Measured end to end on the development halves it
    answered 7 fewer questions, declined one fewer out-of-scope request and raised a false alarm.
    """
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ied") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("eed"):
            root = word[: -len(suffix)]
            if len(root) >= 3 and root[-1] == root[-2] and root[-1] not in "aeiouylsz":
                root = root[:-1]  # running -> run, stopped -> stop; rolling keeps its double l
            return root.removesuffix("e")
    if word.endswith("ly") and len(word) >= 6:
        return word[:-2]
    if word.endswith("es") and word[:-2].endswith(("s", "x", "z", "ch", "sh")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(_KEEP_ENDINGS):
        word = word[:-1]
    if word.endswith("e") and len(word) >= 4:
        word = word[:-1]
    return word


def load_synonyms(path: Path | None = None) -> dict[str, str]:
    """Variant -> canonical phrase, from data/faq/synonyms.yaml (`canonical: [variants]`)."""
    path = path or DATA_DIR / "faq" / "synonyms.yaml"
    try:
        raw = load_yaml(path) or {}
        groups = raw["synonyms"]
        mapping: dict[str, str] = {}
        for canonical, variants in groups.items():
            target = " ".join(words(str(canonical)))
            for variant in (canonical, *variants):
                key = " ".join(words(str(variant)))
                if mapping.get(key, target) != target:
                    raise FaqError(f"{path}: '{variant}' is given for both '{mapping[key]}' and '{target}'")
                if key:
                    mapping[key] = target
    except DataFileError as exc:
        raise FaqError(str(exc)) from exc
    except (KeyError, TypeError, AttributeError) as exc:
        raise FaqError(f"{path}: cannot be read: {exc}") from exc
    return mapping


def load_discomfort(path: Path | None = None) -> tuple[str, ...]:
    """The words of data/faq/discomfort.yaml."""
    path = path or DATA_DIR / "faq" / "discomfort.yaml"
    try:
        return tuple(str(w) for w in (load_yaml(path) or {})["words"])
    except DataFileError as exc:
        raise FaqError(str(exc)) from exc
    except (KeyError, TypeError) as exc:
        raise FaqError(f"{path}: needs 'words', a list: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Negation:
    """Symptoms said to be absent, and the words that say so (data/faq/negation.yaml)."""

    symptoms: frozenset[str]
    """Stems of the symptoms that can be denied."""
    deniers: frozenset[str]
    between: frozenset[str]
    verb_deniers: frozenset[str]
    verbs: frozenset[str]
    gone: frozenset[str]
    moved: frozenset[str]
    before_gone: frozenset[str]
    joiners: frozenset[str]

    def denied(self, found: list[str]) -> set[int]:
        """Positions of the words (after synonyms) that name a symptom said to be absent."""
        out: set[int] = set()
        for i, word in enumerate(found):
            if stem(word) not in self.symptoms:
                continue
            if i >= 2 and found[i - 1] in self.joiners and i - 2 in out:
                out.add(i)  # "no numbness or tingling"
                continue
            j = i - 1
            while j >= 0 and i - j <= 3 and (found[j] in self.between or found[j] in self.verbs):
                j -= 1
            gap = found[j + 1 : i]
            if j >= 0 and found[j] in self.deniers and (found[j] in self.verb_deniers or not set(gap) & self.verbs):
                out.add(i)
                continue
            k = i + 1
            while k < len(found) and k - i <= 2 and found[k] in self.before_gone:
                k += 1
            if k < len(found) and found[k] in self.gone and (k + 1 >= len(found) or found[k + 1] not in self.moved):
                out.add(i)
        return out


_NEGATION_LISTS = ("deniers", "between", "verb_deniers", "verbs", "gone", "moved", "before_gone", "joiners")


def load_negation(path: Path | None = None) -> Negation:
    """The words of data/faq/negation.yaml."""
    path = path or DATA_DIR / "faq" / "negation.yaml"
    try:
        raw = load_yaml(path) or {}
        for key in ("symptoms", *_NEGATION_LISTS):
            if not all(isinstance(w, str) for w in raw[key]):  # YAML reads a bare no as false
                raise FaqError(f"{path}: every word of {key} must be a string (quote words like \"no\")")
        lists = {k: frozenset(" ".join(words(w)) for w in raw[k]) for k in _NEGATION_LISTS}
        return Negation(frozenset(stem(w) for w in raw["symptoms"]), **lists)
    except DataFileError as exc:
        raise FaqError(str(exc)) from exc
    except (KeyError, TypeError) as exc:
        raise FaqError(f"{path}: needs symptoms and the lists {', '.join(_NEGATION_LISTS)}: {exc}") from exc


_FIRST_PERSON = {
    **dict.fromkeys(("his", "her", "their", "your"), "my"),
    **dict.fromkeys(("himself", "herself", "themselves", "yourself"), "myself"),
}


class Normalizer:
    """Turns text into the stemmed topic words that matching compares."""

    def __init__(self, synonyms: Mapping[str, str] | None = None, negation: Negation | None = None) -> None:
        self.synonyms = dict(synonyms or {})
        self.negation = negation
        self._longest = max((len(variant.split()) for variant in self.synonyms), default=0)

    def tokens(self, text: str) -> list[str]:
        """Stemmed content words, in order, with synonyms replaced by their canonical phrase."""
        # Symptoms told about someone else read like one's own, so every synonym written in the
        # first person ("between my legs", "wetting myself") also hears "between his legs".
        found = [_FIRST_PERSON.get(w, w) for w in words(text[:MAX_QUESTION_CHARS])]
        replaced: list[str] = []
        i = 0
        while i < len(found):
            # The longest variant starting at this word wins ("lower back pain" before "back pain").
            for size in range(min(self._longest, len(found) - i), 0, -1):
                canonical = self.synonyms.get(" ".join(found[i : i + size]))
                if canonical is not None:
                    replaced += canonical.split()
                    i += size
                    break
            else:
                replaced.append(found[i])
                i += 1
        denied = self.negation.denied(replaced) if self.negation is not None else ()
        return [stem(w) for i, w in enumerate(replaced) if w not in STOPWORDS and i not in denied]


def content(text: str) -> str:
    """The topic-bearing words of a text, stemmed lightly, in order (no synonyms applied)."""
    return " ".join(Normalizer().tokens(text))


def _word_count(text: str) -> int:
    return len(words(text))


class FaqError(ValueError):
    """A FAQ file that cannot be used."""
