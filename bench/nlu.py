"""4. Local understanding: time per utterance through both tiers, and the cost of building the
statistical tier, over the blind development sets (tests/data/eval/dev*/)."""

from __future__ import annotations

import csv
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, Report, Settings, median, ms, percentile, verdict
from bench.machine import profile_lines

NAME = "4 local NLU"
MEDIAN_BUDGET = 0.002
P99_BUDGET = 0.005
BUILD_BUDGET = 1.0
SETS = sorted((ROOT / "tests" / "data" / "eval").glob("dev*/*.csv"))


def texts() -> list[str]:
    found = []
    for path in SETS:
        with path.open(newline="", encoding="utf-8") as handle:
            found += [row[0] for row in list(csv.reader(handle))[1:] if row]
    return found


def run(settings: Settings) -> Report:
    from skill import interaction_model as models
    from skill.core.datafiles import load_yaml
    from skill.simulator import nlu
    from skill.simulator.statistical import Classifier, cached

    report = Report(NAME)
    utterances = texts()
    started = time.perf_counter()
    import sklearn.feature_extraction.text  # noqa: F401  (imports timed on their own)
    import sklearn.svm  # noqa: F401

    imported = time.perf_counter()
    free_text, training = nlu.training_inputs("en-US")
    expanded = time.perf_counter()
    classifier = Classifier(models.load("en-US"), load_yaml(nlu.ALEXA), free_text, training)
    built = time.perf_counter()
    understander = nlu.understander("en-US")
    understander._classifier = classifier
    for text in utterances:  # warm up
        understander.understand(text)
    reps = settings.pick(3, 10)
    per_text: dict[str, list[float]] = {}
    for _ in range(reps):
        for text in utterances:
            start = time.perf_counter()
            understander.understand(text)
            per_text.setdefault(text, []).append(time.perf_counter() - start)
    medians = [median(v) for v in per_text.values()]
    mid, p99 = median(medians), percentile(medians, 99)
    report.row(f"per utterance: median {ms(mid)}", "-", "-", f"< {ms(MEDIAN_BUDGET)}", verdict(mid < MEDIAN_BUDGET))
    report.row(f"per utterance: p99 {ms(p99)}", "-", "-", f"< {ms(P99_BUDGET)}", verdict(p99 < P99_BUDGET))
    fit = built - expanded
    report.row(f"statistical tier, cold build: {built - imported:.2f} s", "-", "-", f"< {BUILD_BUDGET:g} s",
               verdict(built - imported < BUILD_BUDGET))
    model, alexa = models.load("en-US"), load_yaml(nlu.ALEXA)
    with tempfile.TemporaryDirectory() as directory:
        where = Path(directory)
        cached(model, alexa, where, lambda: (free_text, training), nlu._fingerprint())  # trains and writes
        start = time.perf_counter()
        cached(model, alexa, where, lambda: (free_text, training), nlu._fingerprint())  # what a later run pays
        loaded = time.perf_counter() - start
    report.row(f"statistical tier, cached: {loaded:.2f} s", "-", "-", f"< {BUILD_BUDGET:g} s", verdict(loaded < BUILD_BUDGET))
    counts = {tier: 0 for tier in ("exact", "statistical", "fallback")}
    for text in utterances:
        counts[understander.understand(text).tier] += 1
    report.note(
        f"{len(utterances)} texts from {', '.join(str(p.relative_to(ROOT)) for p in SETS)}; {reps} passes; "
        "per text the median of its passes; Understander.understand() with both tiers."
    )
    report.note(f"tiers that answered: {counts}")
    report.note(
        f"build: scikit-learn import {imported - started:.2f} s, template expansion and FAQ shapes "
        f"{expanded - imported:.2f} s ({sum(len(v) for v in training.values())} samples), training {fit:.2f} s "
        "(features and the linear SVM); the cached figure is what every later `backcoach talk` pays, reading "
        "interaction_models/__pycache__ while the model, templates and FAQ are unchanged (the cache key covers them)."
    )
    slowest = sorted(per_text, key=lambda t: median(per_text[t]), reverse=True)[:5]
    report.note("slowest texts:")
    for text in slowest:
        report.note(f"    {ms(median(per_text[text])):>9}  {text!r}")
    report.note("profile over all texts, self time, top 10:")
    report.details += profile_lines(lambda: [understander.understand(t) for t in utterances], top=10)
    return report
