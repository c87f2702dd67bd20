"""The statistical tier's own parts: hand-built TF-IDF features and the one-vs-rest SVM."""

from __future__ import annotations

import numpy as np
import pytest

from skill.simulator import statistical
from skill.simulator.statistical import Features, _one_vs_rest

TEXTS = [
    "start the neck routine\t<s> start ROUTINE",
    "start the neck routine for ten minutes\t<s> start ROUTINE for AMAZON.DURATION",
    "how long should i foam roll\t<s> how long should i foam roll",
    "is it ok to stretch every day\t<s> is it ok to stretch every day",
    "pause\t<s> pause",
    "pause it\t<s> pause it",
    "resume\t<s> resume",
    "carry on\t<s> carry on",
]


def test_features_weigh_like_scikit_learns_tfidf():
    sklearn_text = pytest.importorskip("sklearn.feature_extraction.text")
    from scipy.sparse import hstack

    words = sklearn_text.TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"[^ ]+",
                                         sublinear_tf=True, preprocessor=lambda t: t.split("\t")[1])
    chars = sklearn_text.TfidfVectorizer(analyzer="char_wb", ngram_range=statistical.CHAR_NGRAMS, sublinear_tf=True,
                                         min_df=statistical.CHAR_MIN_DF, preprocessor=lambda t: t.split("\t")[0])
    expected = hstack([words.fit_transform(TEXTS), chars.fit_transform(TEXTS)]).toarray()
    names = ["w" + n for n in words.get_feature_names_out()] + ["c" + n for n in chars.get_feature_names_out()]
    features, matrix = Features.fit(TEXTS)
    assert sorted(features.columns) == sorted(names)
    order = [features.columns[n] for n in names]
    got = matrix.toarray()[:, order]
    assert np.allclose(got, expected, atol=1e-6)
    # One text's row, as a prediction reads it, is the same as its row in training.
    columns, values = features.row(TEXTS[2])
    row = np.zeros(len(features.idf))
    row[columns] = values
    assert np.allclose(row, matrix.toarray()[2], atol=1e-6)
    # Grams never seen in training are left out.
    columns, _ = features.row("zzz qqq\t<s> zzz qqq")
    assert {int(c) for c in columns} <= {features.columns["w<s>"]}


def test_one_vs_rest_gives_linear_svcs_weights():
    svm = pytest.importorskip("sklearn.svm")
    labels = np.asarray(["start", "start", "question", "question", "pause", "pause", "resume", "resume"])
    _, matrix = Features.fit(TEXTS)
    classes, coef, intercept = _one_vs_rest(matrix, labels)
    reference = svm.LinearSVC(C=statistical.SVM_C, tol=1e-8, max_iter=100000, random_state=0).fit(matrix, labels)
    assert classes == [str(c) for c in reference.classes_]
    assert np.allclose(coef, reference.coef_, atol=0.05)
    assert np.allclose(intercept, reference.intercept_, atol=0.05)
    assert list(np.argmax(matrix @ coef.T + intercept, axis=1)) == list(np.argmax(reference.decision_function(matrix), axis=1))


def test_two_classes_get_a_margin_each():
    pytest.importorskip("sklearn.svm")
    labels = np.asarray(["start", "start", "other", "other", "other", "other", "other", "other"])
    _, matrix = Features.fit(TEXTS)
    classes, coef, intercept = _one_vs_rest(matrix, labels)
    assert classes == ["other", "start"]
    margins = matrix @ coef.T + intercept
    assert [classes[i] for i in np.argmax(margins, axis=1)] == list(labels)


def test_short_words_are_never_near_misses_of_a_value():
    from skill.simulator.nlu import understander

    classifier = understander("en-US").classifier
    words = "put the roller on my lower back".split()
    spans = classifier.gazetteer.spans(words)
    # "roller on" is not the routine "roller one": "on" and "one" differ in most of their letters.
    assert all(s.kind != "ROUTINE" for s in spans), spans
    kinds = {s.kind: s.id for s in spans}
    assert kinds.get("EQUIPMENT") == "foam_roller"
    # A longer word said slightly differently still counts.
    near = classifier.gazetteer.spans("the shoulder blade squeeze".split())
    assert any(s.kind == "ROUTINE" and not s.exact for s in near), near


def test_training_gives_the_same_classifier_every_time():
    pytest.importorskip("sklearn.svm")
    labels = np.asarray(["start", "start", "question", "question", "pause", "pause", "resume", "resume"])
    _, matrix = Features.fit(TEXTS)
    first = _one_vs_rest(matrix, labels)
    for _ in range(3):
        again = _one_vs_rest(matrix, labels)
        assert np.array_equal(again[1], first[1]) and np.array_equal(again[2], first[2])


def test_what_is_told_is_learned_on_both_sides_of_a_request():
    from skill.simulator.training import mixed

    joined = mixed(["start the {routine}", "give me something quick"], ["my legs are numb"], 2)
    assert len(joined) == 4 and all("my legs are numb" in text for text in joined)
    assert joined[0].startswith("start the {routine}") and joined[1].startswith("my legs are numb")
    assert mixed(["start the {routine}"], ["my legs are numb"], 2) == mixed(["start the {routine}"], ["my legs are numb"], 2)
    assert mixed([], ["my legs are numb"], 2) == []


@pytest.fixture(scope="module")
def classifier():
    from skill.simulator.nlu import understander

    return understander("en-US").classifier


def _found(classifier, text: str) -> dict[str, str | None]:
    return {s.kind: s.id for s in classifier.gazetteer.spans(text.split(), {"ROUTINE", "BODY_AREA", "EQUIPMENT"})}


@pytest.mark.parametrize(
    ("said", "routine"),
    [
        ("do the neck range one", "neck-range-of-motion"),
        ("tennis ball upper back release please", "upper-back-tennis-ball"),
        # another form of a word of its name: "opening" for "opener"
        ("the chest and shoulders opening routine", "chest-and-shoulder-opener"),
    ],
)
def test_a_routine_named_in_part_by_a_telling_word_is_that_routine(classifier, said, routine):
    assert _found(classifier, said).get("ROUTINE") == routine


@pytest.mark.parametrize("said", ["mid back foam roller five minutes", "the foam roller for my upper back",
                                  "foam roll my upper back with the roller"])
def test_an_area_and_equipment_said_together_name_no_routine(classifier, said):
    found = _found(classifier, said)
    assert "ROUTINE" not in found and found.get("EQUIPMENT") == "foam_roller", found


@pytest.mark.parametrize(
    ("said", "routine"),
    [
        ("roller upper back one please", "foam-roller-upper-back"),
        ("uh the tennis ball upper back one", "upper-back-tennis-ball"),
        ("fancy doing the upper back one with the tennis ball", "upper-back-tennis-ball"),
    ],
)
def test_an_area_and_equipment_said_as_one_name_are_that_routine(classifier, said, routine):
    slots, _ = classifier.slots("StartRoutineIntent", said.split())
    assert slots["routine"].id == routine and "area" not in slots and "equipment" not in slots, slots


@pytest.mark.parametrize(
    "said", ["an upper back session with the tennis ball", "upper back with the foam roller", "the foam roller for my upper back"]
)
def test_an_area_and_equipment_described_stay_an_area_and_equipment(classifier, said):
    slots, _ = classifier.slots("StartRoutineIntent", said.split())
    assert "routine" not in slots and slots["area"].id == "upper_back" and slots["equipment"].id is not None, slots


def test_a_phrase_that_only_opens_like_a_value_names_none(classifier):
    assert "EQUIPMENT" not in _found(classifier, "something for my hips nothing fancy")
    assert "EQUIPMENT" not in _found(classifier, "a five minute stretch for my neck nothing more")
    assert _found(classifier, "a routine with nothing").get("EQUIPMENT") == "none"


@pytest.mark.parametrize(("said", "value"), [("just something for twenty minutes", None), ("a session for me dear", None),
                                             ("a routine for my numb legs", "numb legs")])
def test_a_value_after_for_is_neither_a_duration_nor_words_of_address(said, value):
    from skill.simulator.classifier import Classifier

    assert (" ".join(Classifier._unresolved(said.split())) or None) == value


@pytest.mark.parametrize(("said", "step"), [("let's jump to the cobra", "cobra"), ("go to the ear to shoulder one", "ear to shoulder one")])
def test_a_step_the_routine_lacks_is_heard_as_its_name(said, step):
    from skill.simulator.nlu import understander

    heard = understander("en-US").understand(said)
    assert heard.intent == "GoToStepIntent" and heard.slots["step"].value == step and heard.slots["step"].id is None


def test_pointing_at_a_place_names_no_step():
    from skill.simulator.nlu import understander

    assert understander("en-US").understand("go back to the one we just did").intent != "GoToStepIntent"


@pytest.mark.parametrize(
    ("said", "duration"),
    [
        ("spine decompression for fifteen", "PT15M"),
        ("upper back tennis ball five", "PT5M"),
        ("ten minutes actually make it five on the neck", "PT5M"),
        ("neck for five no wait ten", "PT10M"),
        ("two neck stretches please", None),
        ("the desk break number two", None),
        ("give us the desk break i've been on spreadsheets since eight", None),
        ("something for my lower back i'm sixty", None),
        ("a neck routine for two people", None),
        ("neck since about eight", None),
        ("neck for twenty one", "PT21M"),
        ("do the roller one", None),
        ("kids be quiet for two secs bedtime wind down", None),  # a moment, and its number no bare minutes
        ("a hips stretch twenty minutes'd be sweet", "PT20M"),
    ],
)
def test_a_number_said_without_a_unit_where_a_length_goes_is_minutes(classifier, said, duration):
    slots, _ = classifier.slots("StartRoutineIntent", said.split())
    assert (slots["duration"].value if "duration" in slots else None) == duration, slots


@pytest.mark.parametrize(
    ("said", "duration"),
    [
        ("a full body one fifteen minutes um no twenty he's with his dad", "PT20M"),
        ("do a ten minute one no make it five she's already stirring", "PT5M"),
        ("hold it thirty seconds no sorry forty", "PT40S"),
        ("ten minutes no equipment please", "PT10M"),
        ("ten minutes no wait twenty minutes", "PT20M"),
        ("ten minutes and then two more neck turns", "PT10M"),
        ("desk break half an hour no twenty", "PT20M"),
        ("bedtime wind down for an hour sorry forty five", "PT45M"),
        ("ten minutes no wait two secs", "PT10M"),  # "wait two secs" is a moment, not a length
    ],
)
def test_a_bare_number_after_a_turning_word_revises_the_length(classifier, said, duration):
    slots, _ = classifier.slots("StartRoutineIntent", said.split())
    assert slots["duration"].value == duration, slots


@pytest.mark.parametrize(("said", "value"), [("i want a tummy massage routine", "tummy massage"),
                                             ("i want a gentle routine", None), ("i want a neck routine", "neck")])
def test_words_a_sample_frames_fill_its_value_only_when_the_model_does_not_know_them(classifier, said, value):
    slots, _ = classifier.slots("StartRoutineIntent", said.split())
    assert (slots["area"].value if "area" in slots else None) == value, slots


@pytest.mark.parametrize(
    ("said", "equipment"),
    [
        ("i can't get down on the floor any more can we do something in a chair", "chair"),
        ("my partner's hogging the foam roller so something without equipment for my mid back", "none"),
        ("something for my lower back but nothing with the roller", None),
        ("i don't want to use the foam roller today just a stretch for the upper back", None),
        ("i don't need any equipment", "none"),
        ("not the tennis ball the foam roller", "foam_roller"),
        ("no with the foam roller please", "foam_roller"),
        ("i don't mind use the foam roller", "foam_roller"),
        ("no roller today just the wall", "wall"),
    ],
)
def test_equipment_said_not_to_be_there_names_none(classifier, said, equipment):
    slots, _ = classifier.slots("StartRoutineIntent", said.split())
    assert (slots["equipment"].id if "equipment" in slots else None) == equipment, slots


def test_minutes_a_day_is_how_often_not_a_longer_length():
    from skill.simulator.numbers import parse_duration

    assert parse_duration("ten minutes a day") == "PT10M" and parse_duration("an hour and a half") == "PT1H30M"


@pytest.mark.parametrize(("said", "number"), [("i want step seven", "7"), ("can we jump back to step 3 now", "3"),
                                              ("take me to step number two please", "2")])
def test_a_step_is_named_by_its_number(said, number):
    from skill.simulator.nlu import understander

    heard = understander("en-US").understand(said)
    assert heard.intent == "GoToStepIntent" and heard.slots["number"].value == number


def test_only_a_number_after_step_counts_a_step():
    from skill.simulator.classifier import Classifier
    from skill.simulator.nlu import understander

    classifier: Classifier = understander("en-US").classifier
    slots, _ = classifier.slots("GoToStepIntent", "go to the one with two hands on the wall".split())
    assert "number" not in slots


@pytest.mark.parametrize(("said", "slot", "value"), [
    # a length said of something else, or a moment asked for in passing, is not the routine's
    ("just off a twelve hour shift and my lower back needs something", "duration", None),
    ("after a ten hour drive give me five minutes for my back", "duration", "PT5M"),
    ("a ten minute neck stretch", "duration", "PT10M"),
    ("kids quiet a sec sorry bedtime wind down please", "duration", None),
    ("hang on a second then do the desk break for two minutes", "duration", "PT2M"),
    # "back" as where someone returns names no area, unless "the" or "my" names it
    ("just back from my long run hips are wrecked", "area", "hips"),
    ("a stretch for the back from sitting", "area", "lower_back"),
    ("something for my back", "area", "lower_back"),
    # saying no kit is needed asks for no equipment
    ("something for the neck that doesn't need any kit", "equipment", "none"),
    ("lower back please no kit needed", "equipment", "none"),
])
def test_a_routine_request_hears_only_what_it_asks_for(classifier, said, slot, value):
    slots, _ = classifier.slots("StartRoutineIntent", said.split())
    heard = slots.get(slot)
    assert (None if heard is None else heard.id or heard.value) == value, slots
