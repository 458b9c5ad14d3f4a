"""The safety watch's English n-gram model (tenth round): its measured precision/recall alone,
in the light install's rule and in the extra's full rule, and what the rules do."""

from __future__ import annotations

import json

import pytest

from familybot.services.safety import english_model, spanish_model
from familybot.services.safety import model as safety_model
from familybot.services.safety.english_model import (
    EnglishWatch,
    EnglishWeights,
    NgramModel,
    light_detector,
)
from familybot.services.safety.lists import PhraseLists
from familybot.services.safety.watch import Detector, PhraseList
from tests.data.safety import SPANISH_TRAINING, load
from tests.unit.test_safety_watch import (
    HELD_OUT,
    HELD_OUT_LABEL,
    MISSING,
    ORDINARY,
    _check_held_out,
    _fires_on,
    _needs_held_out,
    _pooled,
    _report,
    _training_figures,
    classifier_for_tests,
)

LIGHT = light_detector().name
FULL = "full rule: matcher, classifier and n-gram model"
# Floors on the training sets pooled, (precision, recall): what the n-gram model was fitted on
# (every English training set), so not a claim about new messages (bench/safety_en.py --cv
# gives the cross-validated figures); they catch weights that were not refitted, or scored
# wrongly. Measured in the tenth round, when the model was first fitted (C = 100, on all 5948
# training messages; light rule: the list from 0.20, the model alone from 0.90): the n-gram
# model alone 0.980 / 0.908 (set 9: 0.971 / 0.958; tuning10: 1.000 / 0.916), the light rule
# 0.969 / 0.982 (set 9: 0.948 / 0.984). The full rule (the refitted nets, the list if mean(p,
# q) >= 0.5, or q >= 0.99, or mean(p, q) >= 0.8) 0.971 / 0.999 (set 9: 0.964 / 1.000); its
# precision floor is a hundredth lower, as the figure sits within 0.001 of 0.97 and the tests
# embed one message at a time where the measurement embedded them in batches.
NGRAM_TRAINING_FLOORS = {
    "n-gram model": (0.97, 0.90),
    LIGHT: (0.96, 0.98),
}
FULL_TRAINING_FLOOR = (0.96, 0.99)
# At most this share of the 40 ordinary messages (never tuned on) may alert.
ORDINARY_MAX = 2 / 40


def _full() -> Detector:
    lists = PhraseLists.load()
    english = PhraseList.load()
    return safety_model.FullRule(
        english,
        classifier_for_tests(),
        EnglishWatch(english),
        spanish_model.spanish_watch(lists),
    )


@pytest.mark.parametrize("detector", [NgramModel(), light_detector()], ids=["ngram", "light"])
def test_ngram_training_figures(detector: Detector) -> None:
    """The n-gram model alone and the light rule on every training set (misses and false
    alarms printed in full), and their pooled floors."""
    _training_figures(detector)
    precision, recall = _pooled(detector)
    floor = NGRAM_TRAINING_FLOORS[detector.name]
    assert precision >= floor[0] and recall >= floor[1], (detector.name, floor)


def test_held_out_figures_of_every_detector() -> None:
    """Every detector side by side on the newest held-out set (counts per category only): the
    matcher, the n-gram model, the light rule and, with the extra, the classifier and the full
    rule (the bot's with the extra)."""
    _needs_held_out()
    detectors: list[tuple[str, Detector]] = [
        ("matcher", PhraseList.load()),
        ("n-gram model", NgramModel()),
        (LIGHT, light_detector()),
    ]
    if MISSING is None:
        detectors += [("classifier", classifier_for_tests()), (FULL, _full())]
    figures = {name: _report(d, HELD_OUT_LABEL, HELD_OUT) for name, d in detectors}
    for name, (precision, recall) in figures.items():
        _check_held_out(name, precision, recall)


@pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
def test_full_rule_training_figures() -> None:
    detector = _full()
    _training_figures(detector)
    precision, recall = _pooled(detector)
    assert precision >= FULL_TRAINING_FLOOR[0] and recall >= FULL_TRAINING_FLOOR[1]


def test_light_rule_stays_nearly_quiet_on_ordinary_chatter() -> None:
    assert _fires_on(light_detector(), ORDINARY) <= ORDINARY_MAX


@pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
def test_full_rule_stays_nearly_quiet_on_ordinary_chatter() -> None:
    assert _fires_on(_full(), ORDINARY) <= ORDINARY_MAX


@pytest.mark.parametrize("name", SPANISH_TRAINING)
def test_the_english_model_leaves_spanish_negatives_alone(name: str) -> None:
    """The English rule, fitted on English only, fires on few of the Spanish sets' safe
    messages (the Spanish watch reads those)."""
    english = EnglishWatch(PhraseList.load())
    negatives = [e.text for e in load(name) if not e.at_risk]
    fired = sum(english.matches(t) for t in negatives)
    print(f"\n{english.name} on {name}'s negatives: fires on {fired} of {len(negatives)}")
    assert fired <= 0.02 * len(negatives)


def test_english_weights_ship_and_score_in_plain_python() -> None:
    weights = english_model.shared_weights()
    assert isinstance(weights, EnglishWeights) and len(weights.weights) > 1000
    assert 0 < weights.list_floor <= weights.threshold <= 1.01
    assert weights.probability("i want to kill myself tonight") > weights.threshold
    assert weights.probability("see you all at the picnic on saturday") < weights.list_floor
    shipped = english_model.WEIGHTS_FILE
    assert json.loads((english_model.resources.files("familybot") / "data" / shipped).read_text())


def test_the_light_rule_needs_the_model_to_back_a_list_match() -> None:
    """EnglishWatch: a list match counts from list_floor; the model alone from threshold."""
    weights = EnglishWeights({"w:sure": 30.0, "w:maybe": 14.0}, -3.0, 0.9, 0.4)
    watch = EnglishWatch(PhraseList.parse("kms\n"), weights)
    assert not watch.matches("kms")  # the list alone: not enough (q = logistic(-3))
    assert watch.matches("kms maybe")  # backed by the model
    assert watch.matches("sure")  # the model alone, past its threshold
    assert 0.4 < watch.probability("maybe") < 0.9 and not watch.matches("maybe")


def test_the_full_rule_combines_three_scores() -> None:
    rule = safety_model.Rule(gate="max", floor=0.3, p=0.95, q=0.9, mean=0.8)
    assert rule.fires(True, 0.1, 0.35) and not rule.fires(True, 0.1, 0.2)
    assert rule.fires(False, 0.96, 0.0) and rule.fires(False, 0.0, 0.91)
    assert rule.fires(False, 0.79, 0.85) and not rule.fires(False, 0.7, 0.85)
    mean = safety_model.Rule(gate="mean", floor=0.3, p=1.01, q=1.01, mean=1.01)
    assert not mean.fires(True, 0.1, 0.35) and mean.fires(True, 0.3, 0.35)
