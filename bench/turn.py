"""1. In-process turn: envelope JSON in, response JSON out, per request kind, against a
trivial ASK SDK skill doing the same deserialise-dispatch-serialise on the same envelopes."""

from __future__ import annotations

import json
import time
from typing import Any

from bench.common import Report, Settings, median, ms, paired_ratio, percentile, verdict
from bench.machine import describe_records, profile_lines, quiet_logs
from bench.servers import is_error_answer

NAME = "1 in-process turn"
KINDS = ("launch", "start-routine", "routine-step", "next", "pause", "question")
MAX_RATIO = 2.0
MAX_MEDIAN = 0.001


def _batch(fn: Any, skill: Any, text: str, count: int) -> float:
    """Mean seconds per call over `count` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(count):
        fn(skill, text)
    return (time.perf_counter() - start) / count


def run(settings: Settings) -> Report:
    from bench import baseline
    from bench.envelopes import conversation, dict_store
    from skill.alexa.builder import build_skill, invoke

    report = Report(NAME)
    rounds = settings.pick(15, 41)
    per_batch = settings.pick(20, 50)

    with quiet_logs() as records:
        envelopes = conversation()
        skill = build_skill(store=None)
        store = dict_store()
        remembering = build_skill(store=store) if store is not None else None
        trivial = baseline.trivial_skill()
        # sanity: the store-less skill must answer each kind for real, not with its error handler
        broken: dict[str, str] = {}
        for kind in KINDS:
            records.clear()
            answer = invoke(skill, envelopes[kind])
            if is_error_answer(answer):
                broken[kind] = describe_records(records) or "error answer"
            baseline.invoke(trivial, envelopes[kind])
            json.dumps(answer)

        results: dict[str, tuple[float, float, float]] = {}
        ratios: dict[str, float] = {}
        with_dict: dict[str, float] = {}
        for kind in KINDS:
            text = envelopes[kind]
            for _ in range(5):  # warm up
                invoke(skill, text)
                baseline.invoke(trivial, text)
            mine: list[float] = []
            base: list[float] = []
            other: list[float] = []
            for _ in range(rounds):  # interleaved, so drift hits both alike
                mine.append(_batch(invoke, skill, text, per_batch))
                base.append(_batch(baseline.invoke, trivial, text, per_batch))
                if broken and remembering is not None:
                    other.append(_batch(invoke, remembering, text, per_batch))
            results[kind] = (median(mine), median(base), percentile(mine, 90))
            ratios[kind] = paired_ratio(mine, base)
            with_dict[kind] = median(other)

        # profile a skill that answers for real: the store-less one, or the dict-store one if
        # the store-less one only reaches its error handler
        target = remembering if broken and remembering is not None else skill
        loops = settings.pick(20, 100)
        profile = profile_lines(
            lambda: [invoke(target, envelopes[k]) for _ in range(loops) for k in KINDS], top=14
        )
        profile_cum = profile_lines(
            lambda: [invoke(target, envelopes[k]) for _ in range(loops) for k in KINDS],
            top=14,
            only="/skill/",
            sort="cumtime",
        )

    for kind in KINDS:
        mine_med, base_med, mine_p90 = results[kind]
        r = ratios[kind]
        ok = r <= MAX_RATIO and mine_med < MAX_MEDIAN and kind not in broken
        row = report.row(
            f"{kind}: median {ms(mine_med)}",
            f"{ms(base_med)}",
            f"{r:.2f}x",
            f"<= {MAX_RATIO:g}x and < 1 ms",
            verdict(ok),
        )
        if kind in broken:
            row.figure += " (ERROR ANSWER)"
    report.note(
        f"{rounds} rounds x {per_batch} calls per kind, interleaved with the baseline; "
        "figure = median of the per-round mean per call; ratio = median of the per-round ratios."
    )
    report.note(
        "baseline: ask_sdk_core SkillBuilder + one handler answering 'OK.', same envelopes, "
        "same deserialise -> invoke -> serialise."
    )
    for kind in KINDS:
        mine_med, base_med, mine_p90 = results[kind]
        report.note(
            f"  {kind:<14} median {ms(mine_med):>10}  p90 of rounds {ms(mine_p90):>10}  "
            f"baseline {ms(base_med):>10}  envelope {len(envelopes[kind])} bytes"
            + (f"  with an in-memory store {ms(with_dict[kind])}" if broken else "")
        )
    if broken:
        report.note("")
        report.note(
            "The store-less skill (build_skill(store=None)) answered these kinds with its error "
            "handler, so their timings measure the error path:"
        )
        for kind, why in broken.items():
            report.note(f"  {kind}: {why}")
        report.note(
            "The in-memory store column is the same skill with a dict-backed store "
            "(bench.envelopes.dict_store): the working path, for reference."
        )
    which = "with the in-memory store" if target is remembering else "store=None"
    report.note("")
    report.note(f"profile of the skill ({which}) over all kinds, self time, top 14:")
    report.details += profile
    report.note("same, cumulative, project code only (top 14):")
    report.details += profile_cum
    for kind in KINDS:
        mine_med, base_med, _ = results[kind]
        if ratios[kind] > MAX_RATIO or mine_med >= MAX_MEDIAN:
            with quiet_logs():
                text = envelopes[kind]
                lines = profile_lines(
                    lambda text=text: [invoke(target, text) for _ in range(loops * 3)],
                    top=10,
                    only="/skill/",
                    sort="cumtime",
                )
            report.note(f"over budget: {kind}, cumulative, project code only (top 10):")
            report.details += lines
    return report
