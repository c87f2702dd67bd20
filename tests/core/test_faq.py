"""Quick answers: the data file, the synonyms and the matcher against held-out phrasings."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
import yaml

from skill.core.faq import (
    MAX_ANSWER_WORDS,
    THRESHOLD,
    Entry,
    FaqError,
    Match,
    Matcher,
    Normalizer,
    default_matcher,
    load_entries,
    load_heard,
    load_negation,
    load_synonyms,
    words,
)
from skill.core.routines import load_library
from skill.core.faq.entries import WARNINGS_FILE, load_weights

HOLDOUT = yaml.safe_load((Path(__file__).parents[1] / "data" / "faq_holdout.yaml").read_text(encoding="utf-8"))

# Ordinary questions that share a word with a red flag ('fall', 'arm', 'night', 'chest', 'legs',
# 'weight', 'temperature', 'pee'): none of them may raise the alarm.
NEAR_MISSES = [
    "my neck is sore, is it worse to do the stretches lying down",
    "is stretching worse lying down or sitting",
    "how do I fall asleep with back pain",
    "what is the best arm stretch",
    "is it normal to feel sore at night after rolling",
    "should I stretch at night",
    "can I use a heat pad at night",
    "my arms feel tight after the gym",
    "I fell asleep on the couch and my neck is stiff",
    "what is a good chest opener stretch",
    "can I do the chest opener if my shoulder hurts",
    "is it ok to massage my chest muscles",
    "when I wake up my back is stiff",
    "how do I sleep better at night",
    "my legs feel tight after running",
    "I feel the stretch in my legs",
    "can I foam roll my legs",
    "what temperature should a heat pad be",
    "can stretching help me lose weight",
    "is a hot stone massage good for weight loss",
    "should I pee before a massage",
    "can I massage my hands and arms",
    "can a massage help me sleep at night",
    "I have a mild headache and tight shoulders",
    "should I do back stretches when I wake up",
    "does stretching my chest help my posture",
]

# Topic slot values the interaction model can send (TopicIntent ids, underscores as spaces).
TOPICS = {
    "swedish": "swedish-massage",
    "deep tissue": "deep-tissue-massage",
    "trigger point": "trigger-point-massage",
    "shiatsu": "shiatsu-massage",
    "hot stone": "hot-stone-massage",
    "foam rolling": "foam-rolling-basics",
    "stretching": "stretching-benefits",
    "posture": "posture",
    "ice and heat": "ice-or-heat",
    "knots": "what-is-a-knot",
}

# The questions SOURCES.md says people ask, each with the entry that answers it.
SOURCES_QUESTIONS = {
    "best massage for upper back pain": "best-massage-upper-back",
    "ice or heat": "ice-or-heat",
    "how long to foam roll": "foam-roll-duration",
    "how often should I foam roll": "foam-roll-frequency",
    "should I foam roll before or after a workout": "before-or-after-workout",
    "can I roll my lower back": "roll-lower-back",
    "should I massage a pulled muscle": "massage-pulled-muscle",
    "how soon after an injury can I have a massage": "how-soon-after-injury",
    "how long to hold a stretch": "stretch-hold-time",
    "should stretching hurt": "stretching-hurt",
    "how to massage my own neck": "massage-own-neck",
    "is a massage gun safe on the neck": "massage-gun-neck",
    "how to use a tennis ball on a knot": "tennis-ball-knot",
    "how long to press a trigger point": "trigger-point-pressure-time",
    "what is a muscle knot": "what-is-a-knot",
    "why am I sore after a massage": "sore-after-massage",
    "is bruising normal after a massage": "bruising-after-massage",
    "foam rolling while pregnant": "pregnancy",
    "self massage with osteoporosis": "osteoporosis",
    "massage on blood thinners": "blood-thinners",
    "when is back pain an emergency": "back-pain-emergency",
    "when to see a doctor about neck pain": "when-to-see-doctor-neck",
    "stretches for tech neck": "tech-neck",
    "desk stretches": "desk-stretches",
    "how often to take stretch breaks": "stretch-break-frequency",
    "does stretching help lower back pain": "stretching-low-back-pain",
    "is it fine to stretch every day": "stretch-every-day",
    "stretch in the morning or at night": "stretch-morning-or-night",
    "can massage make back pain worse": "massage-make-worse",
    "roll slowly or quickly": "roll-slow-or-fast",
    "how to sleep with a pulled back muscle": "sleep-pulled-muscle",
    "why are my upper back muscles so tight": "upper-back-tight-why",
    "why does it hurt between my shoulder blades": "pain-between-shoulder-blades",
    "what is Swedish massage": "swedish-massage",
    "what is deep tissue massage": "deep-tissue-massage",
    "what is shiatsu": "shiatsu-massage",
    "what is hot stone massage": "hot-stone-massage",
    "what is trigger point massage": "trigger-point-massage",
    "how to find a massage therapist": "find-therapist",
}


@pytest.fixture(scope="module")
def entries() -> tuple[Entry, ...]:
    return load_entries()


@pytest.fixture(scope="module")
def matcher(entries: tuple[Entry, ...]) -> Matcher:
    # The FAQ's own phrasings and the learned warning-sign weights, without heard questions: the
    # held-out phrasings measure how the entries' own words generalise.
    return Matcher(entries, warnings=load_weights(WARNINGS_FILE))


@pytest.fixture(scope="module")
def by_id(entries: tuple[Entry, ...]) -> dict[str, Entry]:
    return {e.id: e for e in entries}


def _reaches(match: Match, expected: Entry) -> bool:
    """A red-flag question is answered when any red flag is raised; others need the right entry."""
    if expected.red_flag:
        return match.urgent is not None and match.urgent.red_flag
    return match.entry is not None and match.entry.id == expected.id


# ---------------------------------------------------------------- the data


def test_data_validates_against_the_routine_library(entries: tuple[Entry, ...]) -> None:
    library_ids = {routine.id for routine in load_library()}
    assert load_entries(routine_ids=library_ids) == entries
    for entry in entries:
        assert len(words(entry.answer)) <= MAX_ANSWER_WORDS, entry.id
        assert entry.sources, entry.id
        assert set(entry.routines) <= library_ids, entry.id


def test_there_are_enough_entries_each_with_enough_phrasings(entries: tuple[Entry, ...]) -> None:
    assert len(entries) >= 50
    few = {e.id: len(e.questions) for e in entries if len(e.questions) < 5}
    assert not few, f"entries with fewer than 5 phrasings: {few}"


def test_no_phrasing_belongs_to_two_entries(entries: tuple[Entry, ...]) -> None:
    owner: dict[str, str] = {}
    for entry in entries:
        for question in entry.questions:
            key = " ".join(words(question))
            assert owner.setdefault(key, entry.id) == entry.id, f"'{question}' in {owner[key]} and {entry.id}"


def test_holdout_phrasings_are_not_in_the_data(entries: tuple[Entry, ...]) -> None:
    data = {" ".join(words(q)) for e in entries for q in e.questions}
    leaked = [h["q"] for h in HOLDOUT["holdout"] if " ".join(words(h["q"])) in data]
    assert not leaked, f"held-out phrasings copied into the data: {leaked}"


def test_holdout_ids_exist(by_id: dict[str, Entry]) -> None:
    assert {h["id"] for h in HOLDOUT["holdout"]} <= set(by_id)


def test_synonyms_load_and_include_the_common_ones() -> None:
    synonyms = load_synonyms()
    assert synonyms["physio"] == "physical therapy"
    assert synonyms["rub"] == "massage"
    assert synonyms["anticoagulant"] == "blood thinner"
    assert synonyms["thin bones"] == "osteoporosis"
    assert synonyms["text neck"] == "tech neck"
    assert synonyms["pee"] == "bladder"
    assert synonyms["high temperature"] == "fever"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my lower back pain is bad", ["lumbar", "ach"]),  # the longest variant wins
        ("back pain again", ["ach", "again"]),
        ("the physio said rub it", ["physical", "therapy", "massag"]),
        ("I can't feel my toes", ["numb", "toe"]),  # apostrophes stay inside words
        ("lower back", ["lower", "back"]),  # only whole variants are replaced
        ("", []),
    ],
)
def test_normalizer_replaces_the_longest_synonym_at_each_word(text: str, expected: list[str]) -> None:
    normalizer = Normalizer(
        {"lower back pain": "lumbar ache", "back pain": "ache", "physio": "physical therapy",
         "rub": "massage", "can't feel": "numb"}
    )
    assert normalizer.tokens(text) == expected


def test_synonyms_with_two_meanings_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "synonyms.yaml"
    path.write_text("synonyms:\n  massage: [rub]\n  ointment: [rub]\n", encoding="utf-8")
    with pytest.raises(FaqError, match="rub"):
        load_synonyms(path)


def test_each_massage_style_in_the_sources_has_its_own_entry(matcher: Matcher) -> None:
    found = {}
    for style in ("swedish", "deep tissue", "trigger point", "shiatsu", "hot stone"):
        match = matcher.match(f"what is {style} massage")
        assert match.entry is not None, style
        assert style.split()[0] in match.entry.id, (style, match.entry.id)
        found[style] = match.entry.id
    assert len(set(found.values())) == len(found), found


@pytest.mark.parametrize(("question", "expected"), sorted(SOURCES_QUESTIONS.items()))
def test_questions_people_ask_in_the_sources_are_covered(matcher: Matcher, question: str, expected: str) -> None:
    match = matcher.match(question)
    assert match.entry is not None and match.entry.id == expected, match.why


@pytest.mark.parametrize(("topic", "expected"), sorted(TOPICS.items()))
def test_topic_slot_values_reach_their_entry(matcher: Matcher, topic: str, expected: str) -> None:
    match = matcher.match(topic)
    assert match.entry is not None and match.entry.id == expected, match.why


# ---------------------------------------------------------------- matching


def test_every_data_phrasing_maps_back_to_its_entry(matcher: Matcher, entries: tuple[Entry, ...]) -> None:
    misses = [
        f"{q!r} ({e.id}): {matcher.match(q).why}"
        for e in entries
        for q in e.questions
        if not _reaches(matcher.match(q), e)
    ]
    assert not misses, "\n".join(misses)


def test_held_out_phrasings_reach_the_right_entry(matcher: Matcher, by_id: dict[str, Entry]) -> None:
    cases = HOLDOUT["holdout"]
    misses = [
        f"{c['q']!r} -> want {c['id']}: {matcher.match(c['q']).why}"
        for c in cases
        if not _reaches(matcher.match(c["q"]), by_id[c["id"]])
    ]
    right = len(cases) - len(misses)
    accuracy = right / len(cases)
    assert accuracy >= 0.9, f"held-out accuracy {accuracy:.1%} ({right}/{len(cases)}); misses:\n" + "\n".join(misses)


@pytest.mark.parametrize("question", HOLDOUT["out_of_scope"])
def test_out_of_scope_questions_are_declined(matcher: Matcher, question: str) -> None:
    match = matcher.match(question)
    # Declined: no answer, or an entry that politely refuses (declines: true).
    assert (match.entry is None or match.entry.declines) and match.urgent is None, match.why
    assert match.entry is not None or match.score < THRESHOLD


def test_every_red_flag_phrasing_raises_the_alarm(matcher: Matcher, entries: tuple[Entry, ...]) -> None:
    phrasings = [(q, e.id) for e in entries if e.red_flag for q in e.questions]
    phrasings += [(c["q"], c["id"]) for c in HOLDOUT["holdout"] if c["id"].startswith("red-flag-")]
    assert len(phrasings) > 50
    silent = [f"{q!r} ({i})" for q, i in phrasings if matcher.match(q).urgent is None]
    assert not silent, "\n".join(silent)


def test_the_alarm_names_the_right_red_flag_for_data_phrasings(matcher: Matcher, entries: tuple[Entry, ...]) -> None:
    wrong = [
        f"{q!r}: {e.id} != {getattr(matcher.match(q).urgent, 'id', None)}"
        for e in entries
        if e.red_flag
        for q in e.questions
        if getattr(matcher.match(q).urgent, "id", None) != e.id
    ]
    assert not wrong, "\n".join(wrong)


def test_red_flag_comes_with_whatever_else_matched(matcher: Matcher) -> None:
    match = matcher.match("my back pain is worse at night, should I use ice or heat")
    assert match.urgent is not None and match.urgent.id == "red-flag-night-pain"


def test_ordinary_phrasings_in_data_and_holdout_do_not_raise_the_alarm(
    matcher: Matcher, entries: tuple[Entry, ...], by_id: dict[str, Entry]
) -> None:
    ordinary = [q for e in entries if not e.red_flag for q in e.questions]
    ordinary += [c["q"] for c in HOLDOUT["holdout"] if not by_id[c["id"]].red_flag]
    alarmed = [f"{q!r} -> {m.urgent.id}" for q in ordinary if (m := matcher.match(q)).urgent is not None]
    assert not alarmed, "\n".join(alarmed)


@pytest.mark.parametrize("question", NEAR_MISSES)
def test_ordinary_questions_do_not_raise_the_alarm(matcher: Matcher, question: str) -> None:
    match = matcher.match(question)
    assert match.urgent is None, match.urgent.id if match.urgent else ""
    assert match.entry is None or not match.entry.red_flag


@pytest.mark.parametrize(
    "question", ["", "   ", "um please", "uh", "?!", "x" * 2000, "massage " * 300, "ñandú ☃ 123", "a1b2 " * 400]
)
def test_degenerate_questions_do_not_fail(matcher: Matcher, question: str) -> None:
    match = matcher.match(question)
    assert isinstance(match, Match)
    if not question.startswith("massage"):
        assert match.entry is None and match.urgent is None


def test_no_entry_means_a_score_below_the_threshold(matcher: Matcher) -> None:
    questions = [c["q"] for c in HOLDOUT["holdout"]] + HOLDOUT["out_of_scope"] + NEAR_MISSES
    for question in questions:
        match = matcher.match(question)
        assert 0 <= match.score <= 100
        assert (match.entry is not None) == (match.score >= matcher.threshold), (question, match.score)


def test_in_domain_tells_an_unknown_back_question_from_another_subject(matcher: Matcher) -> None:
    assert matcher.in_domain("can I massage my sciatic nerve")
    assert matcher.in_domain("book me a massage appointment for Saturday")
    assert not matcher.in_domain("what's the weather like tomorrow in London")
    assert not matcher.in_domain("")


def test_suggestions_are_ordinary_entries(matcher: Matcher) -> None:
    suggestions = matcher.suggestions()
    assert len(suggestions) >= 2 and all(e.suggest and not e.red_flag for e in suggestions)


def test_default_matcher_is_built_once() -> None:
    assert default_matcher() is default_matcher()


def _entry(**changes: object) -> Entry:
    fields: dict[str, object] = {
        "id": "red-flag-test",
        "topic": "test",
        "red_flag": True,
        "questions": ["my toes are blue", "blue toes", "toes turned blue"],
        "keywords": ["toes blue"],
        "answer": "Get help.",
        "sources": ["test"],
    }
    fields.update(changes)
    return msgspec.convert(fields, Entry)


def test_learned_warning_weights_need_the_entry_they_raise(entries: tuple[Entry, ...]) -> None:
    with pytest.raises(FaqError, match="red-flag-warning-sign"):
        Matcher(tuple(e for e in entries if e.id != "red-flag-warning-sign"), warnings=load_weights(WARNINGS_FILE))


def test_red_flag_keywords_are_checked_when_the_matcher_is_built() -> None:
    assert Matcher((_entry(),), synonyms={}).match("my toes have gone blue").urgent is not None
    with pytest.raises(FaqError, match="stopword"):
        Matcher((_entry(keywords=["toes blue", "the"]),), synonyms={})
    with pytest.raises(FaqError, match="never matches"):
        Matcher((_entry(keywords=["pee"]),), synonyms={"pee": "bladder"})


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"answer": "word " * 60}, "entry 1 'blue-toes', field 'answer': 60 words; at most 45 fit a spoken reply"),
        ({"questions": ["one", "two"]}, "entry 1 'blue-toes', field 'questions': Expected `array` of length >= 3"),
        ({"topic": "   "}, "entry 1 'blue-toes', field 'topic': Expected `str` of length >= 1"),
        ({"colour": "red"}, "entry 1 'blue-toes', field 'colour': not a known field"),
        ({"said_first": ["..."]}, "entry 1 'blue-toes', field 'said_first': '...' has no words"),
        ({"said_first": ["do i have ..."]},
         "entry 1 'blue-toes', field 'said_first': 'do i have ...' waits for one of the entry's conditions, and it has none"),
    ],
)
def test_a_broken_faq_file_names_the_entry_and_field(tmp_path: Path, change: dict, expected: str) -> None:
    entry = {"id": "blue-toes", "topic": "toes", "questions": ["a", "b", "c"], "answer": "Get help.", "sources": ["t"]}
    path = tmp_path / "faq.yaml"
    path.write_text(yaml.safe_dump({"entries": [entry | change]}), encoding="utf-8")
    with pytest.raises(FaqError) as caught:
        load_entries(path)
    assert str(caught.value) == f"{path}: {expected}"


def test_a_faq_file_needs_two_suggested_questions(tmp_path: Path) -> None:
    entry = {"id": "toes", "topic": "toes", "questions": ["a", "b", "c"], "answer": "Wiggle.", "sources": ["t"]}
    path = tmp_path / "faq.yaml"
    path.write_text(yaml.safe_dump({"entries": [entry | {"suggest": True}, entry | {"id": "feet"}]}), encoding="utf-8")
    with pytest.raises(FaqError, match="two ordinary entries need suggest: true"):
        load_entries(path)
    path.write_text(yaml.safe_dump({"entries": [entry | {"suggest": True}, entry | {"id": "feet", "suggest": True}]}),
                    encoding="utf-8")
    assert [e.id for e in load_entries(path)] == ["toes", "feet"]


@pytest.mark.parametrize("question", [
    "can you do a jaw massage for tmj",
    "how should i massage my feet after a long shift",
    "a foot massage routine please",
    "my forearms ache from typing",
    "my feet are sore after standing all day",
    "my hands ache from gripping the steering wheel",
])
def test_other_body_parts_that_steps_name_are_declined_as_what_is_massaged(matcher: Matcher, question: str) -> None:
    match = matcher.match(question)
    assert match.entry is not None and match.entry.id == "other-body-parts" and match.urgent is None, match.why


@pytest.mark.parametrize("question", [
    # Steps name the jaw, the forearms and the feet; the scalp and the jaw come with tension headaches.
    "rest your forearm on the wall, is that right",
    "stand with your feet apart and stretch, like this?",
    "i stand on my feet all day, what massage helps my back",
    "tension headache, can i massage my scalp and neck",
    "my tmj flares when my neck is tight, what stretches help my neck",
])
def test_body_parts_a_step_names_are_no_refusal_elsewhere(matcher: Matcher, question: str) -> None:
    match = matcher.match(question)
    assert (match.entry is None or not match.entry.declines) and match.urgent is None, match.why


def test_a_refusal_never_hides_a_warning_sign(matcher: Matcher) -> None:
    assert matcher.match("my forearm is weak and numb, can i massage my forearms").urgent is not None


def test_a_caution_pattern_answers_whatever_else_the_question_resembles(matcher: Matcher) -> None:
    assert matcher.match("my wife is pregnant, can she use the tennis ball on her back").entry.id == "pregnancy"
    assert matcher.match("how do I use a tennis ball on a knot").entry.id == "tennis-ball-knot"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # A story first, then a question that holds one of the entry's phrasings.
        ("i've been painting the fence all afternoon and my shoulders are knotted how do i use a tennis ball on a knot",
         "tennis-ball-knot"),
        ("my mum bought me a massage gun for my birthday and i have no idea how do i use a massage gun", "massage-gun-use"),
        ("i teach yoga four times a week and my students ask me how long should you hold a stretch", "stretch-hold-time"),
        ("i just got back from a ten hour flight and my neck is stiff which pillow is best for neck pain",
         "pillow-for-neck-pain"),
        # Words no entry uses weigh less in a long question: they are mostly its story.
        ("we've got a new baby and i'm up every night rocking her what can i do for my upper back pain",
         "relieve-upper-back-pain"),
        # Self massage said reflexively (synonyms.yaml).
        ("i'm a nurse doing twelve hour shifts on the ward how can i give myself a neck massage when i get home",
         "massage-own-neck"),
    ],
)
def test_long_chatty_questions_reach_their_entry(matcher: Matcher, question: str, expected: str) -> None:
    match = matcher.match(question)
    assert match.entry is not None and match.entry.id == expected, match.why
    assert match.urgent is None


@pytest.mark.parametrize(
    "question",
    [
        "my dog keeps pulling on the lead and my shoulder aches how do i train him",
        "my knee has been clicking for weeks when i go up stairs what is it",
        "i've been on my feet all day at work and my ankles are swollen is that normal",
        "my neck aches after long drives which car should i buy for comfort",
        "i've been getting these headaches behind my eyes when i read do i need glasses",
    ],
)
def test_long_questions_about_something_else_are_still_declined(matcher: Matcher, question: str) -> None:
    match = matcher.match(question)
    assert match.entry is None or match.entry.declines, match.why
    assert match.urgent is None


@pytest.mark.parametrize(
    "question",
    [
        "book me a sports massage near me for saturday my back is stiff",
        "find a physio near me and book them for monday",
        "please order me a spiky ball from the shop",
        "remind me to do my neck stretches after lunch",
        # ordering, told by its verb alone
        "reorder the massage oil i bought last month",
        "order another foam roller like my old one",
    ],
)
def test_requests_to_do_something_are_declined(matcher: Matcher, question: str) -> None:
    match = matcher.match(question)
    assert match.entry is not None and match.entry.declines and match.entry.id == "cannot-do-tasks", match.why
    assert match.urgent is None


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # Alexa drops "should i", so only openings with the person as object count as requests.
        ("set a reminder to stretch every hour", "stretch-break-frequency"),
        ("book a deep tissue massage or a swedish one", "deep-tissue-massage"),
        ("foam roller should i buy for a beginner", "choosing-a-foam-roller"),
    ],
)
def test_questions_that_start_like_requests_are_answered(matcher: Matcher, question: str, expected: str) -> None:
    match = matcher.match(question)
    assert match.entry is not None and match.entry.id != "cannot-do-tasks", match.why


def test_a_red_flag_in_a_request_still_raises_the_alarm(matcher: Matcher) -> None:
    match = matcher.match("book me a massage i fell off a ladder and my back hurts")
    assert match.urgent is not None and match.urgent.id == "red-flag-fall-or-accident"


def test_one_word_of_an_entry_does_not_carry_a_long_question(matcher: Matcher) -> None:
    # "flexible" is all of the flexibility entry's topic, but a question holding it is not about it.
    match = matcher.match("how flexible are the payment plans for the gym near me")
    assert match.entry is None, match.why


def test_a_refusal_reached_by_requests_is_never_reached_by_resemblance(matcher: Matcher) -> None:
    match = matcher.match("booked a massage with a new therapist last week and now my back is tender why is that")
    assert match.entry is None or match.entry.id != "cannot-do-tasks", match.why


@pytest.mark.parametrize(
    "question",
    [
        "someone headbutted me at the pub and my neck is sore",
        "i was tackled at football on sunday and my back hurts",
        "i haven't been able to go for a poo properly since my back went",
    ],
)
def test_blows_and_bowel_trouble_raise_the_alarm(matcher: Matcher, question: str) -> None:
    assert matcher.match(question).urgent is not None


def test_kicking_a_ball_is_no_accident(matcher: Matcher) -> None:
    assert matcher.match("i kicked the ball really hard and my hip hurts").urgent is None


def test_a_long_question_needs_a_domain_word_the_entry_explains(matcher: Matcher) -> None:
    match = matcher.match("my husband snores so loud and i'm exhausted every morning how do i get him to stop")
    assert match.entry is None, match.why
    # A long question that does name the domain is still answered.
    match = matcher.match("how hot should a hot water bottle be i don't want to burn myself like last winter")
    assert match.entry is not None and match.entry.id == "heating-pad-safety", match.why


def test_the_dense_bm25_table_gives_bm25s_own_scores():
    # matcher reads bm25s's internal index.scores layout (pinned in pyproject): this notices a change.
    import bm25s
    import numpy as np

    from skill.core.faq.matcher import _term_scores

    corpus = [["neck", "stretch", "stiff"], ["foam", "roller", "back"], ["ice", "heat", "back", "back"]]
    vocabulary, table = _term_scores(corpus)
    index = bm25s.BM25()
    index.index(corpus, show_progress=False)
    for query in (["back"], ["neck", "back"], ["heat", "roller", "stiff"]):
        dense = np.sum([table[vocabulary[w]] for w in query], axis=0)
        assert np.allclose(dense, index.get_scores(query), atol=1e-5)


def test_heard_questions_load_for_ordinary_entries_only(tmp_path: Path, entries: tuple[Entry, ...]) -> None:
    heard = load_heard(entries)
    assert len(heard) >= 90 and all(by for by in heard.values())
    flag = next(e.id for e in entries if e.red_flag)
    for bad, message in (({"no-such-entry": ["a question"]}, "no entry 'no-such-entry'"),
                         ({flag: ["my legs went numb"]}, "only through its keywords"),
                         ({"ice-or-heat": "not a list"}, "needs 'heard'")):
        path = tmp_path / "heard.yaml"
        path.write_text(yaml.safe_dump({"heard": bad}), encoding="utf-8")
        with pytest.raises(FaqError, match=message):
            load_heard(entries, path)


def test_heard_questions_are_matched_like_phrasings(entries: tuple[Entry, ...]) -> None:
    question = "my neck went stiff on the long drive, hot water bottle or frozen peas"
    before = Matcher(entries).match(question).entry
    assert before is None or before.id != "ice-or-heat"
    learned = Matcher(entries, heard={"ice-or-heat": ["stiff neck after a drive, hot water bottle or frozen peas"]})
    assert learned.match(question).entry is not None and learned.match(question).entry.id == "ice-or-heat"


def test_words_only_heard_around_a_question_do_not_tie_another_subject_to_it(entries: tuple[Entry, ...]) -> None:
    learned = Matcher(entries, heard={"stretch-before-or-after-exercise": ["do i stretch before football or after"]})
    answered = learned.match("is it better to stretch before football").entry
    assert answered is not None and answered.id == "stretch-before-or-after-exercise"
    assert learned.match("who won the football").entry is None


def test_no_held_out_phrasing_was_heard(entries: tuple[Entry, ...]) -> None:
    from skill.simulator.training import HEARD, load_said

    heard = {" ".join(words(q)) for qs in load_heard(entries).values() for q in qs}
    heard |= {" ".join(words(q)) for qs in load_said(HEARD).values() for q in qs}
    nlu = yaml.safe_load((Path(__file__).parents[1] / "data" / "nlu_holdout.yaml").read_text(encoding="utf-8"))
    held = [h["q"] for h in HOLDOUT["holdout"]] + list(HOLDOUT.get("out_of_scope", [])) + [c["text"] for c in nlu["cases"]]
    assert not [h for h in held if " ".join(words(h)) in heard]


def test_a_data_folder_without_heard_questions_still_answers(tmp_path: Path, entries: tuple[Entry, ...]) -> None:
    assert load_heard(entries, tmp_path / "heard.yaml") == {}


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # Narrowed keywords leave these two to the learned tier ("chest muscles sore from bench press"
        # and "a non slip mat on kitchen tiles" are no warning signs).
        ("my chest has been sore all day and my upper back aches", "red-flag-warning-sign"),
        ("both of my legs went all wobbly this morning and my back is bad", "red-flag-both-legs"),
        ("i came down the stairs on my tailbone yesterday", "red-flag-fall-or-accident"),
        ("she slipped on the wet tiles and now her back hurts", "red-flag-warning-sign"),
        ("my back aches and i've dropped a stone without even dieting", "red-flag-weight-loss"),
        ("my lower back gets worse in bed every single night", "red-flag-night-pain"),
        ("the headache came on like a hammer blow", "red-flag-worst-headache"),
        ("since my back went i've wet myself without noticing", "red-flag-bladder-bowel"),
        # idioms and plain words for the same signs
        ("my father cannot control his water and his back hurts", "red-flag-bladder-bowel"),
        ("went arse over at the skate park and my back's wrecked", "red-flag-fall-or-accident"),
        ("i missed a step on the stairs and now my lower back hurts", "red-flag-fall-or-accident"),
        ("temp's been high two days now and my back is really hurting", "red-flag-fever-back-pain"),
        ("i'm sweating and freezing at the same time and my back won't stop hurting", "red-flag-fever-back-pain"),
        ("the weight's coming off me and my back is always aching", "red-flag-weight-loss"),
        ("my back gets worse after dark", "red-flag-night-pain"),
        ("my lower back pain is worse when i lie down", "red-flag-night-pain"),
        ("worst head pain i've ever felt", "red-flag-worst-headache"),
        ("i had treatment for a growth before and this back ache is new", "red-flag-cancer-history"),
        ("her legs won't hold her and her back's sore", "red-flag-both-legs"),
        ("i keep tripping because neither leg wants to lift properly", "red-flag-both-legs"),
        # the heart's pain told without the chest; chills told as feeling ill
        ("the ache runs down my arm and up into my jaw", "red-flag-chest-pain"),
        ("i feel poorly, hot then cold all night, and my lower back is killing me", "red-flag-fever-back-pain"),
        # thrown by an animal, a landing on the tailbone, pain that never lets up whatever you do
        ("the pony bucked me off on sunday and my lower back is sore", "red-flag-fall-or-accident"),
        ("slipped on the ice and landed right on my coccyx", "red-flag-fall-or-accident"),
        ("for a month now the ache never eases, even when i rest", "red-flag-night-pain"),
    ],
)
def test_warning_signs_told_in_everyday_words_raise_the_alarm(matcher: Matcher, question: str, expected: str) -> None:
    match = matcher.match(question)
    assert match.urgent is not None and match.urgent.id == expected, match.why


@pytest.mark.parametrize(
    "question",
    [
        "is my bed making my back worse",
        "can i do the chest opener when walking makes my shoulders tight",
        "i lost weight and want to stretch more, where do i start",
        "my chest muscles are sore from bench press",
        "is a non slip yoga mat good on kitchen tiles",
        "does the room temperature matter when i stretch my stiff neck",
        "i get tension headaches when i hit the gym",
        "is wet heat or dry heat better for self massage",
        "nothing comes close to a massage for my back pain",
        "can i hold water bottles as weights for shoulder exercises",
        "my neck feels worse after bed rest",
        "can i lift either leg first in the bird dog",
        "my legs won't lift high enough for the knee hug",
        "my phone buzzes and i tense my shoulders",
        "i'm hot and sweaty after my run, can i stretch my back",
        "should i put hot or cold on my back",
        "is it hot or cold for a sore back when i'm ill with a cold",
        "can i massage my jaw and my arm",
        "i'm hot and shaky after my run, can i stretch my back",
        "how much water should i drink to control soreness",
        "does the room temperature matter when i stretch",
        # the everyday senses of the words for falls, fevers, weight, growths and weak legs
        "i'm totally wiped out after work and my back aches",
        "i think i missed a step, can we go back",
        "lost my footing in the yoga pose but my back is fine",
        "i work as a temp and my back hurts",
        "the temperature's up in the gym and my back aches",
        "my watch buzzes every hour and my neck hurts",
        "trying to get my weight going down and my back aches",
        "my teenage son had a growth spurt and his back aches",
        "neither leg hurts, it's just my lower back",
        "my leg won't hold the position in the hamstring stretch",
        "can i go beyond ten head turns",
        "the temp's up to thirty today, will the heat help my back",
        "should i do one in the morning when my back is at its worst",
        "i wake up at four in the morning for work, what stretch helps my back",
        "my weight is going down on my diet, which stretches help my back",
        "i love the buzz in my legs after a back stretch",
        "my legs are heavy after running, the two of them",
        "my toddler turned on the waterworks and my back aches from carrying her",
        "the knot never eases when i roll it",
        "my neck never really eases after a long day at the desk",
        "which stretch is good for a sore tailbone",
        "i threw a ball for the dog and my shoulder aches",
    ],
)
def test_the_everyday_words_of_warning_signs_alone_raise_no_alarm(matcher: Matcher, question: str) -> None:
    assert matcher.match(question).urgent is None, matcher.match(question).why


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # Asking which condition it is: declined.
        ("could this be a bulging disc in my neck", "no-diagnosis"),
        ("do you think i have a frozen shoulder", "no-diagnosis"),
        ("my shoulder clicks when i lift my arm, is it a torn rotator cuff", "no-diagnosis"),
        ("my back hurts when i bend, have i got a slipped disc", "no-diagnosis"),
        ("i think i tore a muscle in my neck, can you confirm it", "no-diagnosis"),
        ("what have i done to my lower back", "no-diagnosis"),
        # A condition an entry explains, and tablets that help: answered.
        ("what is sciatica", "sciatica"),
        ("pain runs down the back of my leg, is it sciatica", "sciatica"),
        ("which tablets work best for a stiff neck", "pain-relievers"),
    ],
)
def test_a_question_about_a_condition_reaches_the_entry_that_answers_it(matcher: Matcher, question: str, expected: str) -> None:
    match = matcher.match(question)
    assert match.entry is not None and match.entry.id == expected, match.why


def test_a_refusals_pattern_comes_before_a_cautions(matcher: Matcher) -> None:
    # "pregnant" makes the pregnancy caution answer first, but which painkiller to take is a refusal.
    match = matcher.match("can i take paracetamol for my back while i'm pregnant")
    assert match.entry is not None and match.entry.id == "no-prescription", match.why
    assert matcher.match("can i use a foam roller while pregnant").entry.id == "pregnancy"


def test_a_warning_sign_no_keyword_names_raises_the_learned_alarm(matcher: Matcher) -> None:
    plain = matcher.match("my whole body went cold and clammy and my upper back is screaming")
    assert plain.urgent is not None and plain.urgent.id == "red-flag-warning-sign", plain.why
    # Without the learned weights only keywords raise alarms.
    assert Matcher(load_entries()).match("my whole body went cold and clammy and my upper back is screaming").urgent is None


def test_warning_weights_that_cannot_be_read_say_what_they_need(tmp_path: Path) -> None:
    broken = tmp_path / "warnings.yaml"
    broken.write_text("bias: high\n", encoding="utf-8")
    with pytest.raises(FaqError, match="needs 'bias' and 'weights'"):
        load_weights(broken)
    assert load_weights(tmp_path / "missing.yaml") is None


def test_a_refusal_that_resembles_an_entry_is_declined_by_the_learned_weights(entries: tuple[Entry, ...]) -> None:
    from skill.core.faq.entries import REFUSALS_FILE

    learned = Matcher(entries, refusals=load_weights(REFUSALS_FILE))
    refused = learned.match("will you text my physio for me")
    assert refused.entry is None and refused.score < THRESHOLD and "sounds declined" in refused.why, refused.why
    assert Matcher(entries).match("will you text my physio for me").entry is not None
    # An answerable question, and a caution answered by its pattern, are still answered.
    assert learned.match("is a massage gun good for my neck").entry.id == "massage-gun-neck"
    assert learned.match("can i use a massage gun when pregnant").entry.id == "pregnancy"


@pytest.mark.parametrize(
    "question",
    [
        "stiff neck this morning, no fever, just slept on it funny",
        "had the flu last week and the fever's long gone but my back is stiff from bed",
        "my lower back hurts but there's no numbness or tingling in my legs",
        "she doesn't have a temperature, her back just aches after the move",
        "my neck is sore without any pins and needles",
        "he hasn't got a fever but his back aches",
    ],
)
def test_a_symptom_said_to_be_absent_raises_no_alarm(matcher: Matcher, question: str) -> None:
    assert matcher.match(question).urgent is None, matcher.match(question).why


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("no, i do have a fever and my back is killing me", "red-flag-fever-back-pain"),
        ("i've never had a fever this high and my back hurts", "red-flag-fever-back-pain"),
        ("no fever but i can't feel my legs", "red-flag-both-legs"),
        # a denial reaches only its own symptom, and "no" answering a question denies nothing
        ("no fever and numbness in my bum and inner thighs", "red-flag-saddle-numbness"),
        ("no fever and tingling in both my feet with back pain", "red-flag-both-legs"),
        ("no, got a fever and my back is killing me", "red-flag-fever-back-pain"),
        ("not really, got a fever and my back hurts", "red-flag-fever-back-pain"),
        # a symptom that has gone somewhere has moved, not gone away
        ("the tingling's gone down into both my feet", "red-flag-both-legs"),
        ("the numbness has passed into my other leg", "red-flag-both-legs"),
    ],
)
def test_a_symptom_told_beside_a_denied_one_still_raises_the_alarm(matcher: Matcher, question: str, expected: str) -> None:
    match = matcher.match(question)
    assert match.urgent is not None and match.urgent.id == expected, match.why


def test_a_bare_no_in_the_negation_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "negation.yaml"
    path.write_text("symptoms: [fever]\ndeniers: [no]\nbetween: []\nverb_deniers: []\nverbs: []\ngone: []\nmoved: []\n"
                    "before_gone: []\njoiners: []\n")
    with pytest.raises(FaqError, match="quote"):
        load_negation(path)


@pytest.mark.parametrize(("question", "expected"), [
    # "expecting" alone is no pregnancy; someone who is expecting is
    ("my wife is expecting, can she use a foam roller", "pregnancy"),
    ("is a massage okay while expecting", "pregnancy"),
    # "not" after the subject still asks when to avoid it
    ("when should i not massage at all", "when-not-to-massage"),
    ("when is it a bad idea to get a massage", "when-not-to-massage"),
    ("is it a bad idea to stretch every day", "stretch-every-day"),
    # a dose of anything is a prescription
    ("what dose of melatonin should i take to sleep through my back ache", "no-prescription"),
])
def test_phrasings_that_share_a_word_with_another_entry_reach_the_one_meant(matcher: Matcher, question: str, expected: str) -> None:
    match = matcher.match(question)
    assert match.entry is not None and match.entry.id == expected and match.urgent is None, match.why


@pytest.mark.parametrize(("question", "expected"), [
    ("is my shoulder a rotator cuff tear", "no-diagnosis"),
    ("is my back a slipped disc", "no-diagnosis"),
    ("is my neck stiff because of my pillow", "pillow-for-neck-pain"),  # no condition asked about
])
def test_asking_whether_a_body_part_has_a_condition_is_a_diagnosis(matcher: Matcher, question: str, expected: str) -> None:
    match = matcher.match(question)
    assert match.entry is not None and match.entry.id == expected, match.why


@pytest.mark.parametrize(("question", "expected"), [
    ("an ankle mobility session please", "other-body-parts"),
    ("a routine for my wrists", "other-body-parts"),
    ("how long do i hold the knees to chest stretch", "stretch-hold-time"),  # a back stretch by its name
])
def test_a_routine_for_another_body_part_is_declined(matcher: Matcher, question: str, expected: str) -> None:
    match = matcher.match(question)
    assert match.entry is not None and match.entry.id == expected, match.why


def test_icing_is_ice(matcher: Matcher) -> None:
    match = matcher.match("i tweaked my back, should i be icing it")
    assert match.entry is not None and match.entry.id == "icing-a-strain", match.why


@pytest.mark.parametrize(("question", "not_meant"), [
    ("what should i be expecting after my first massage", "pregnancy"),
    ("is that to be expected after a deep tissue massage", "pregnancy"),
    ("my upper back is sore after gardening, what helps", "other-body-parts"),
    ("can i press on a knot with the heel of my hand", "other-body-parts"),
])
def test_a_shared_word_alone_does_not_decide_the_entry(matcher: Matcher, question: str, not_meant: str) -> None:
    match = matcher.match(question)
    assert match.entry is None or match.entry.id != not_meant, match.why


@pytest.mark.parametrize("question", [
    "ok so i ate it at the skatepark and my back still hurts",
    "wiped out on the ice this morning and now my lower back is really painful",
])
def test_a_fall_told_in_slang_raises_the_alarm(matcher: Matcher, question: str) -> None:
    match = matcher.match(question)
    assert match.urgent is not None and match.urgent.id == "red-flag-fall-or-accident", match.why


def test_eating_something_is_no_fall(matcher: Matcher) -> None:
    assert matcher.match("i ate it all before my massage, is that okay").urgent is None


@pytest.mark.parametrize(("question", "expected"), [
    ("never had a headache like it, came on all at once", "red-flag-worst-headache"),
    ("i had the big c a few years back and now my spine hurts", "red-flag-cancer-history"),
    ("i've not been able to wee properly since my back went", "red-flag-bladder-bowel"),
    ("there's numbness in both lower limbs along with my lumbar pain", "red-flag-both-legs"),
    ("i keep trying to wee and nothing comes out since my back went", "red-flag-bladder-bowel"),
    ("we had a bump in the car on monday and my neck's been sore since", "red-flag-fall-or-accident"),
    ("i feel rotten and my neck just won't bend", "red-flag-stiff-neck-fever-headache"),
    ("my back hurts and i've lost weight even though i'm not trying to lose weight", "red-flag-weight-loss"),
    ("i keep getting woken up by my back", "red-flag-night-pain"),
])
def test_warning_signs_told_by_what_shows_them_raise_the_alarm(matcher: Matcher, question: str, expected: str) -> None:
    match = matcher.match(question)
    assert match.urgent is not None and match.urgent.id == expected, match.why


@pytest.mark.parametrize("question", [
    "my clothes feel tight across the shoulders, which stretch helps",
    "i have a wee bit of stiffness in my neck, any tips",
    "can i do all the stretches at once",
    "i've never had a massage like this before, is it normal to feel sore",
    # a Scot's "wee" is small, and needing a wee is no warning sign
    "i've come up in wee bruises after my massage, is that usual",
    "i'm bursting for a wee, can we pause",
    # feeling rotten, or a stiff neck, alone
    "i feel rotten about skipping my stretches all week",
    "my neck won't bend as far as it used to, which stretch helps",
    # waking stiff
    "i keep waking up with a stiff neck",
    # hay fever is an allergy
    "what can i take for hay fever",
    # weight lost on purpose
    "i'm trying to lose weight, will stretching help my back",
    "i want to lose weight, is yoga good for back pain",
])
def test_the_words_around_those_signs_alone_raise_no_alarm(matcher: Matcher, question: str) -> None:
    assert matcher.match(question).urgent is None


# Alexa hands over the words after "how": what a thing costs is asked without "cost" or "price".
@pytest.mark.parametrize(("question", "price"), [("much is a foam roller on amazon", True),
                                                 ("much are massage guns these days", True),
                                                 ("much is too much foam rolling", False),
                                                 ("much is a good amount to stretch", False)])
def test_how_much_a_thing_is_asks_its_price(matcher: Matcher, question: str, price: bool) -> None:
    match = matcher.match(question)
    assert (match.entry is not None and match.entry.id == "prices-and-money") == price, match.why


# Refusals found in the development halves of 2026-12-04, each beside in-scope questions that share its words.
@pytest.mark.parametrize(("question", "expected"), [
    ("should i let them operate on my lower back", "no-treatment-decisions"),
    ("is a cortisone shot in my shoulder a good idea", "no-treatment-decisions"),
    ("do i need an x ray for this neck pain", "no-treatment-decisions"),
    ("is the massage gun in the sale worth getting", "prices-and-money"),
    ("where can i get the cheapest tennis balls", "prices-and-money"),
    ("how do i give myself a facial massage", "other-body-parts"),
    ("can i roll a lacrosse ball under my foot", "other-body-parts"),
    ("if this is a slipped disc or just a strain", "no-diagnosis"),
    ("what do my blood test results mean", "no-diagnosis"),
    ("could you refer me to a physiotherapist", "cannot-do-tasks"),
    ("send this routine to my email", "cannot-do-tasks"),
    ("i'd like to book a deep tissue massage for saturday", "cannot-do-tasks"),
    ("what should i be eating to build muscle", "other-health-topics"),
    ("how do i bring my cholesterol down", "other-health-topics"),
    ("does beetroot juice help sore muscles", "other-health-topics"),
])
def test_treatments_bargains_other_parts_diagnoses_tasks_and_diet_are_declined(matcher: Matcher, question: str, expected: str) -> None:
    match = matcher.match(question)
    assert match.entry is not None and match.entry.id == expected, match.why


@pytest.mark.parametrize(("question", "not_meant"), [
    ("should i lie face down on the roller", "other-body-parts"),
    ("should i lie face down or face up for a back massage", "other-body-parts"),
    ("my friend got me a massage voucher, what happens at a swedish massage", "prices-and-money"),
    ("i work in sales and sit all day, what stretches help", "prices-and-money"),
    ("what's the cheapest way to ease a sore back at home", "prices-and-money"),
    ("what's the big deal about foam rolling", "prices-and-money"),
    ("i had a scan last year for thin bones, can i still foam roll", "no-treatment-decisions"),
    ("is it fine to stretch straight after lunch", "other-health-topics"),
    ("is it ok to stretch after eating", "other-health-topics"),
    ("i eat at my desk, how do i stretch there", "other-health-topics"),
    ("what does referred pain mean", "cannot-do-tasks"),
])
def test_words_near_those_refusals_do_not_decline(matcher: Matcher, question: str, not_meant: str) -> None:
    match = matcher.match(question)
    assert match.entry is None or match.entry.id != not_meant, match.why


def test_a_spot_on_the_body_is_a_place_not_a_blemish(matcher: Matcher) -> None:
    match = matcher.match("pressing a spot near my shoulder blade makes my head ache, is that normal")
    assert match.entry is not None and match.entry.id == "referred-pain", match.why


@pytest.mark.parametrize(("question", "expected"), [
    ("my mum says it's like someone's sitting on her chest", "red-flag-chest-pain"),
    ("it aches constantly, day and night, and resting makes no difference", "red-flag-night-pain"),
    ("my lower back has hurt twenty four seven for a month", "red-flag-night-pain"),
    ("i feel unwell, hot and cold, and my back is in agony", "red-flag-fever-back-pain"),
])
def test_warning_signs_told_as_pictures_and_times_raise_the_alarm(matcher: Matcher, question: str, expected: str) -> None:
    match = matcher.match(question)
    assert match.urgent is not None and match.urgent.id == expected, match.why


@pytest.mark.parametrize("question", ["i stretch day and night, constantly", "should i use hot and cold packs on my back",
                                      "can someone sit on my back to massage it"])
def test_the_words_of_those_pictures_alone_raise_no_alarm(matcher: Matcher, question: str) -> None:
    assert matcher.match(question).urgent is None
