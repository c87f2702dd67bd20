"""4. Local understanding: time per utterance over the hold-out texts, with the en-US model
and with the model made 10x larger by synthetic samples (9 made-up variants of every sample,
added to the same intents)."""

from __future__ import annotations

import copy
import time
from collections import defaultdict
from typing import Any

from bench.common import ROOT, Report, Settings, median, ms, percentile, profile_lines, verdict

NAME = "4 local NLU"
MAX_GROWTH = 3.0
HOLDOUT = ROOT / "tests" / "data" / "nlu_holdout.yaml"
MADE_UP = (
    "zorvex",
    "plimber",
    "quandle",
    "frisp",
    "mobbet",
    "tarnic",
    "wuzzle",
    "glimt",
    "sproing",
)
"""Extra words no utterance contains; variant j of a sample gets MADE_UP[j] at position j % (n+1)."""


def texts() -> list[str]:
    import yaml

    cases = yaml.safe_load(HOLDOUT.read_text(encoding="utf-8"))["cases"]
    return [case["text"] for case in cases]


def bigger(model: dict[str, Any], factor: int = 10) -> dict[str, Any]:
    """The model with factor-1 synthetic variants of every sample of every intent."""
    grown = copy.deepcopy(model)
    for intent in grown["interactionModel"]["languageModel"]["intents"]:
        samples = list(intent.get("samples", []))
        extra = []
        for sample in samples:
            words = sample.split()
            for j in range(1, factor):
                at = j % (len(words) + 1)
                extra.append(" ".join(words[:at] + [MADE_UP[(j - 1) % len(MADE_UP)]] + words[at:]))
        if samples:
            intent["samples"] = samples + extra
    return grown


def _samples(model: dict[str, Any]) -> int:
    return sum(
        len(i.get("samples", [])) for i in model["interactionModel"]["languageModel"]["intents"]
    )


def run(settings: Settings) -> Report:
    from skill import interaction_model as models
    from skill.simulator.nlu import Understander

    report = Report(NAME)
    utterances = texts()
    model = models.load("en-US")
    large = bigger(model)
    t0 = time.perf_counter()
    small_u = Understander(model)
    t1 = time.perf_counter()
    large_u = Understander(large)
    t2 = time.perf_counter()
    reps = settings.pick(5, 25)
    timings: dict[str, dict[str, list[float]]] = {"1x": defaultdict(list), "10x": defaultdict(list)}
    for u in (small_u, large_u):  # warm up
        for text in utterances:
            u.understand(text)
    for _ in range(reps):
        for label, u in (("1x", small_u), ("10x", large_u)):
            for text in utterances:
                start = time.perf_counter()
                u.understand(text)
                timings[label][text].append(time.perf_counter() - start)

    def summary(label: str) -> tuple[float, float, dict[str, float]]:
        per_text = {text: median(values) for text, values in timings[label].items()}
        return median(list(per_text.values())), percentile(list(per_text.values()), 99), per_text

    s_med, s_p99, s_per = summary("1x")
    l_med, l_p99, l_per = summary("10x")
    growth = l_med / s_med
    report.row(
        f"10x model: median {ms(l_med)}, p99 {ms(l_p99)}",
        f"1x: {ms(s_med)}, p99 {ms(s_p99)}",
        f"{growth:.2f}x",
        f"median < {MAX_GROWTH:g}x",
        verdict(growth < MAX_GROWTH),
    )
    differ = [
        t
        for t in utterances
        if (a := small_u.understand(t)).intent != (b := large_u.understand(t)).intent
        or {k: v.id or v.value for k, v in a.slots.items()}
        != {k: v.id or v.value for k, v in b.slots.items()}
    ]
    report.note(
        f"{len(utterances)} hold-out texts (tests/data/nlu_holdout.yaml), {reps} interleaved passes; "
        "per text the median of its passes; figure = median and p99 over texts; Understander.understand()."
    )
    report.note(
        f"model: {_samples(model)} samples (build {ms(t1 - t0)}); 10x: {_samples(large)} samples "
        f"(build {ms(t2 - t1)}); p99 growth {l_p99 / s_p99:.2f}x; "
        f"texts understood differently by the 10x model: {len(differ)}"
    )
    slowest = sorted(l_per, key=l_per.get, reverse=True)[:5]  # type: ignore[arg-type]
    report.note("slowest texts (10x model, 1x model):")
    for text in slowest:
        report.note(f"    {ms(l_per[text]):>9} {ms(s_per[text]):>9}  {text!r}")
    report.note("profile over all texts, 10x model, self time, top 10:")
    report.details += profile_lines(lambda: [large_u.understand(t) for t in utterances], top=10)
    return report
