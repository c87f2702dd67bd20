"""Red-flag keywords: specific word patterns, never resemblance."""

from __future__ import annotations

from skill.core.faq.text import FaqError, Normalizer, stem

Slot = tuple[frozenset[str], int]
"""Stems any of which fills the slot, and how many other words may come before it (after the
previous slot)."""
Alarm = tuple[tuple[Slot, ...], ...]
"""A red-flag keyword, parsed. Groups joined by '&' must all occur somewhere in the question.
Within a group, words must occur in order with at most one other word between neighbours, or
none when joined by '+'; 'a|b' accepts either word. So "chest pain|tight" matches "my chest
feels tight" and "chest pains" but not "can I do the chest opener if my shoulder hurts"; "back+
wakes" matches "my back wakes me up" but not "back stretches when I wake up"; "fever & back"
matches "I have a fever and my lower back is sore". Keywords use the canonical words of
synonyms.yaml ('numb', 'tingling', 'fever', 'bladder'): questions are compared after synonyms."""


def _alarm(keyword: str, normalizer: Normalizer) -> Alarm:
    """Parse a red-flag keyword (see `Alarm`), rejecting words that could never match."""
    groups = []
    for part in keyword.lower().split("&"):
        slots: list[Slot] = []
        for chunk in part.split():
            for position, slot in enumerate(chunk.split("+")):
                options = [w for w in slot.split("|") if w]
                for word in options:
                    if normalizer.tokens(word) != [stem(word)]:
                        seen = " ".join(normalizer.tokens(word)) or "nothing (a stopword)"
                        raise FaqError(
                            f"red-flag keyword '{keyword}': '{word}' never matches; questions read it as {seen}"
                        )
                if not options:
                    raise FaqError(f"red-flag keyword '{keyword}' has an empty word")
                slots.append((frozenset(stem(w) for w in options), 0 if position else 1))
        if not slots:
            raise FaqError(f"red-flag keyword '{keyword}' has an empty part")
        groups.append(tuple(slots))
    return tuple(groups)


def _found(slots: tuple[Slot, ...], tokens: list[str], start: int = 0, anywhere: bool = True) -> bool:
    """Whether the slots occur in order in tokens[start:], each within its allowed gap."""
    if not slots:
        return True
    options, gap = slots[0]
    end = len(tokens) if anywhere else min(len(tokens), start + gap + 1)
    return any(tokens[i] in options and _found(slots[1:], tokens, i + 1, anywhere=False) for i in range(start, end))
