"""The safety watch: each detector's measured precision/recall, and what one message does."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Awaitable, Callable

import pytest

from familybot.db.connection import Database
from familybot.services.safety import model as safety_model
from familybot.services.safety.service import MessageOutcome
from familybot.services.safety.watch import (
    COOLDOWN,
    WINDOW_WORDS,
    Detector,
    PhraseList,
    PhraseListError,
    WatchResult,
    normalise,
    score,
)
from tests.data.safety import Example, load, newest_held_out, sizes
from tests.support.fakes import FakeClock
from tests.support.safety_fakes import (
    ALERTS,
    GROUP_CHANNEL,
    OTHER_CHANNEL,
    SafetyWorld,
    safety_world,
)

AT_RISK = "I don't want to be here anymore"
# The target for the default detector, on the held-out set.
TARGET_PRECISION = 0.90
TARGET_RECALL = 0.90
# The held-out set of this round: the newest heldoutN.tsv not yet retired (tests/data/safety:
# newest_held_out), written by another hand from the guidance, never read by whoever tuned the
# matcher or trained the classifier. From the tenth round on that is held-out 10 (written on
# another branch, merged by the lead after this round's detectors). On a branch without it the
# held-out tests say so in their output and skip.
HELD_OUT_NAME = newest_held_out()
HELD_OUT_AS_WRITTEN = load(HELD_OUT_NAME) if HELD_OUT_NAME else ()
HELD_OUT_LABEL = f"HELD-OUT SET {HELD_OUT_NAME.removeprefix('heldout')}" if HELD_OUT_NAME else ""
NO_HELD_OUT = (
    "NO HELD-OUT SET on this branch: every heldoutN.tsv is retired (the next is written on "
    "another branch); no held-out precision/recall measured"
)
# Everything a detector may be tuned or trained on. Held-out sets 1-3 were retired to training
# in the fourth round, 4 in the fifth, 5 in the sixth, 6 in the seventh, 7 in the eighth, 8 in
# the ninth, 9 in the tenth (their headers say so); tuning7.tsv to tuning10.tsv were written
# by the seventh to tenth rounds' tuners: training figures.
TRAINING = {
    "tuning set": load("tuning"),
    "seventh-round tuning set": load("tuning7"),
    "eighth-round tuning set": load("tuning8"),
    "ninth-round tuning set": load("tuning9"),
    "tenth-round tuning set": load("tuning10"),
    "set 1 (retired held-out)": load("heldout"),
    "set 2 (retired held-out)": load("heldout2"),
    "set 3 (retired held-out)": load("heldout3"),
    "set 4 (retired held-out)": load("heldout4"),
    "set 5 (retired held-out)": load("heldout5"),
    "set 6 (retired held-out)": load("heldout6"),
    "set 7 (retired held-out)": load("heldout7"),
    "set 8 (retired held-out)": load("heldout8"),
    "set 9 (retired held-out)": load("heldout9"),
    "chatter negatives": load("chatter"),
}
ORDINARY = load("ordinary")
# A held-out message that happens to equal a training message (two hands wrote the same short
# sentence) is no test of new wording: it is scored as neither. How many each held-out set has,
# counted once when it is merged (held-out 5 had 3 and held-out 7 had 5 before they were
# retired); a set not listed must have none, so a coincidence is found and counted at the
# merge, not missed.
_TRAINED = {normalise(e.text) for examples in TRAINING.values() for e in examples}
HELD_OUT = tuple(e for e in HELD_OUT_AS_WRITTEN if normalise(e.text) not in _TRAINED)
KNOWN_COINCIDENCES: dict[str, int] = {}
# HELD_OUT_10_FLOORS: floors on held-out 10, (precision, recall) per detector, set by the lead
# from its one measurement, after the tenth round's tuning and before anyone read it
# (2026-12-03; two parts by two hands, 855 messages, 423 at risk, none equal to a training
# message; a copy of one part-A row in part B removed, its header says so): matcher 0.907 /
# 0.600; n-gram model 0.883 / 0.837; light rule 0.870 / 0.915 (0.8697); classifier 0.873 /
# 0.728; the ninth round's rule with the refitted nets 0.864 / 0.884; the full rule (the bot's
# with the extra) 0.885 / 0.960 (0.9598; part A 0.884 / 0.967, part B 0.885 / 0.953). Recall meets the target (0.90) in both rules, precision does not in either; the
# cross-validation's second-worst fold had said 0.911 / 0.945 (full) and 0.910 / 0.907 (light).
# History: held-out 9 (now training), measured once by the lead on 2026-12-03 after the ninth
# round (two parts by two hands, 856 messages, 424 at risk; 6 equal a training message, so 850
# scored, 420 at risk): matcher 0.912 / 0.640; classifier 0.935 / 0.724; matcher checked by
# classifier, or classifier 0.923 / 0.862 (the cross-validation's second-worst fold had said
# 0.900 / 0.877). Held-out 8 after the eighth round (854 messages, 422 at risk): matcher 0.895
# / 0.566; classifier 0.914 / 0.701; matcher checked by classifier, or classifier 0.891 /
# 0.851. Held-out 7 after the seventh round (415 scored, 208 at risk): matcher 0.900 / 0.649;
# classifier 0.926 / 0.784; matcher checked by classifier, or classifier 0.925 / 0.885.
# Held-out 6 after the sixth round: matcher 0.870 / 0.571; classifier 0.762 / 0.852; matcher
# or classifier 0.743 / 0.938.
HELD_OUT_10_FLOORS: dict[str, tuple[float, float] | None] = {
    "matcher": (0.90, 0.60),
    "n-gram model": (0.88, 0.83),
    "light rule: English list checked by the n-gram model, or the n-gram model, or the "
    "Spanish watch": (0.86, 0.91),
    "classifier": (0.87, 0.72),
    "matcher checked by classifier, or classifier": (0.86, 0.88),
    "full rule: matcher, classifier and n-gram model": (0.88, 0.95),
}
HELD_OUT_FLOORS = HELD_OUT_10_FLOORS if HELD_OUT_NAME == "heldout10" else {}
# Floors on the training sets pooled (what the matcher was tuned on, so not a claim about new
# messages; they stop a change to the list from quietly undoing earlier work). Measured in the
# seventh round, with held-out 6 retired to training and tuning7.tsv added (the matcher was
# tuned on neither; unchanged this round): precision 0.972, recall 0.858 (the sixth round's
# 0.991 / 0.909 without them; bench/safety.py gives the cross-validated ones). Eighth round,
# held-out 7 retired into the pool before the list changed (set 7 alone 0.901 / 0.652): 0.965 /
# 0.835; with tuning8.tsv too (written from the list's misses and false alarms): 0.958 / 0.823.
# After the eighth round's lines (set 7 alone 0.985 / 0.929, tuning8 0.938 / 0.924): 0.975 /
# 0.880. Ninth round, held-out 8 retired into the pool before the list changed (set 8 alone
# 0.895 / 0.566, its one measurement): 0.965 / 0.825, so the floors drop for that reason only;
# with tuning9.tsv too (written from the list's misses and false alarms): 0.959 / 0.802.
# After the ninth round's lines (set 8 alone 0.932 / 0.780, tuning9 0.889 / 0.545; sets 5 and 6,
# which no ninth-round line was written from, 0.566 -> 0.605 and 0.614 -> 0.638): 0.966 / 0.858.
# Tenth round, held-out 9 retired into the pool before the list changed (set 9 alone 0.913 /
# 0.642, its one measurement): 0.960 / 0.826, so the floors drop for that reason only; with
# tuning10.tsv too (written from the list's misses and false alarms): 0.956 / 0.813. After the
# tenth round's lines (set 9 alone 0.924 / 0.743, tuning10 0.761 / 0.422; sets 5 and 6, which
# no tenth-round line was written from, 0.605 -> 0.610 and 0.638 -> 0.643 recall, precision
# unchanged or up; ordinary chatter 0 of 40): 0.957 / 0.831.
MATCHER_TRAINING_FLOORS = (0.95, 0.83)


def _report(
    detector: Detector, name: str, examples: tuple[Example, ...], *, held_out: bool = True
) -> tuple[float, float]:
    """Print a detector's figures on one set. For a held-out set only counts are printed (per
    category, never a message): whoever tunes a detector must not see which held-out messages
    it misses. A training set's misses and false alarms are printed in full."""
    precision, recall, false_pos, false_neg = score(
        detector, [(e.text, e.at_risk) for e in examples]
    )
    positives = sum(1 for e in examples if e.at_risk)
    print(
        f"\n{detector.name} on {name}: {len(examples)} messages ({positives} at risk): "
        f"precision {precision:.3f}, recall {recall:.3f}"
    )
    if held_out:
        for (label, category), (wrong, total) in sorted(_wrong_per_category(detector, examples)):
            kind = "missed" if label else "false alarms"
            print(f"  {category}: {kind} {wrong} of {total}")
        return precision, recall
    for text in false_pos:
        print(f"  false positive: {text}")
    for text in false_neg:
        print(f"  missed: {text}")
    return precision, recall


def _wrong_per_category(
    detector: Detector, examples: tuple[Example, ...]
) -> list[tuple[tuple[int, str], tuple[int, int]]]:
    """((label, category), (how many the detector got wrong, how many there are)), counts only."""
    wrong = sizes(tuple(e for e in examples if detector.matches(e.text) != e.at_risk))
    return [(key, (wrong[key], total)) for key, total in sizes(examples).items()]


def _training_figures(detector: Detector) -> None:
    for name, examples in TRAINING.items():
        _report(detector, name, examples, held_out=False)


def _check_held_out(name: str, precision: float, recall: float) -> None:
    """The detector meets its floor (HELD_OUT_FLOORS), or the target when it has none."""
    floor = HELD_OUT_FLOORS.get(name) or (TARGET_PRECISION, TARGET_RECALL)
    if recall < TARGET_RECALL or precision < TARGET_PRECISION:
        print(f"{name} below the target {TARGET_PRECISION} / {TARGET_RECALL} on {HELD_OUT_NAME}")
    assert precision >= floor[0], (name, HELD_OUT_NAME, "precision", precision, floor)
    assert recall >= floor[1], (name, HELD_OUT_NAME, "recall", recall, floor)


def _pooled(detector: Detector) -> tuple[float, float]:
    training = [(e.text, e.at_risk) for examples in TRAINING.values() for e in examples]
    precision, recall, _, _ = score(detector, training)
    print(f"\n{detector.name} on all training sets pooled: {precision:.3f} / {recall:.3f}")
    return precision, recall


def test_matcher_training_figures() -> None:
    """Every training set's figures, misses and false alarms printed in full; pooled floors."""
    matcher = PhraseList.load()
    _training_figures(matcher)
    precision, recall = _pooled(matcher)
    assert precision >= MATCHER_TRAINING_FLOORS[0] and recall >= MATCHER_TRAINING_FLOORS[1]


def _needs_held_out() -> None:
    """On a branch without a held-out set: say so in the test output (-s), then skip."""
    if HELD_OUT_NAME is None:
        print(f"\n{NO_HELD_OUT}")
        pytest.skip(NO_HELD_OUT)


def test_matcher_held_out_figures() -> None:
    """The light install's detector (and half of the extra's) on the newest held-out set."""
    _needs_held_out()
    matcher = PhraseList.load()
    precision, recall = _report(matcher, HELD_OUT_LABEL, HELD_OUT)
    _check_held_out("matcher", precision, recall)


def test_labelled_sets_are_big_split_and_cover_every_category() -> None:
    training = [e for examples in TRAINING.values() for e in examples]
    assert len(training) >= 2300
    assert not HELD_OUT or len(HELD_OUT) >= 200
    labelled = [examples for name, examples in TRAINING.items() if name != "chatter negatives"]
    for examples in (*([HELD_OUT] if HELD_OUT else []), *labelled):
        share = sum(e.at_risk for e in examples) / len(examples)
        assert 0.4 <= share <= 0.6
        counts = sizes(examples)
        for label, category in counts:
            assert category in CATEGORIES[label] or category == "legacy"
        # Every category of the guidance is there, with some examples each.
        for label, names in CATEGORIES.items():
            for category in names:
                assert counts[(label, category)] >= 5, (label, category)
        assert {e.person for e in examples if e.at_risk} >= {"self", "other"}
    assert all(not e.at_risk for e in TRAINING["chatter negatives"] + ORDINARY)
    # Not one held-out message was also used for training (nor twice within the set). Counts
    # only in the failure message: a held-out text is never printed.
    held = [normalise(e.text) for e in HELD_OUT + ORDINARY]
    trained = {normalise(e.text) for e in training}
    repeated = len(held) - len(set(held))
    assert repeated == 0, f"{repeated} held-out messages appear twice"
    overlap = len(set(held) & trained)
    assert overlap == 0, f"{overlap} held-out messages are also training messages"
    # The set as written: only the coincidences known at its merge (a new training message
    # equal to a held-out one would quietly shrink the held-out set).
    as_written = {normalise(e.text) for e in HELD_OUT_AS_WRITTEN}
    known = KNOWN_COINCIDENCES.get(HELD_OUT_NAME or "", 0)
    assert len(as_written & trained) <= known, (HELD_OUT_NAME, len(as_written & trained), known)
    if HELD_OUT_NAME is None:
        print(f"\nheld-out checks not run: {NO_HELD_OUT}")


CATEGORIES = {
    1: {
        "passive_ideation",
        "active_ideation",
        "intent",
        "plan",
        "means",
        "timing",
        "self_harm",
        "hopelessness",
        "burden",
        "goodbye",
        "danger_now",
    },
    0: {
        "idiom",
        "past",
        "recovery",
        "prevention",
        "negation",
        "quote_media",
        "medical_grief",
        "question",
        "everyday",
    },
}


def test_normalise_handles_apostrophes_case_and_punctuation() -> None:
    assert normalise("I DON’T   want…\nto be here!!") == "i dont want to be here"
    assert normalise("I'm fine") == "im fine"
    assert normalise("that killed me 😂") == "that killed me lol"


@pytest.mark.parametrize(
    ("text", "hit"),
    [
        ("I don’t want to be here anymore", True),
        ("i dont want to be here anymore", True),
        ("I don't want to be here for the whole session", False),
        ("This traffic is killing me", False),
        ("I'm not suicidal, just tired", False),
        ("my son is talking about killing himself again", True),
        ("my son said he wanted to kill himself last year and now he is doing better", False),
        # The misses the issue reported.
        ("my daughter is going to kill herself tonight", True),
        ("my son has a plan to end his life", True),
        ("I'm going to hurt myself", True),
        ("I keep cutting myself again", True),
        ("I wish I could go to sleep and never wake up", True),
        ("there's no point in going on", True),
        ("tonight I'm going to end it", True),
        # Slang is read as what it means; a question about the topic is not a report.
        ("kms", True),
        ("i want to unalive myself", True),
        ("is self harm always about suicide?", False),
        ("my daughter is self harming", True),
        # Fifth round: written for this test, not copied from a labelled set.
        ("my brother keeps asking what the most painless way to die is", True),
        ("she looked up which bridges near us have no fences", True),
        ("he gave his guitar and all his games away to his mates this week", True),
        ("I gave my old clothes to charity this week", False),
        ("the kids would be happier if i wasnt around", True),
        ("my dad borrowed his brothers rifle and hes been so low", True),
        ("my son has burns on his arms from a lighter", True),
        ("the scratches on my arms are from the cat", False),
        ("I can't do this anymore with our landlord", False),
        ("there was a time I wanted to die, but that was long ago", False),
        ("my mum says if she disappeared we'd all be fine", True),
        ("I'm not stopping myself next time", True),
        ("the kids walked into the sea and screamed, so cold", False),
        ("how many is lethal for a dog, he ate chocolate", False),
        ("the razor blades are hidden in the cupboard so the kids cant reach them", False),
        ("she's on the balcony railing painting it", False),
        ("long sleeves in summer is her style", False),
        ("after christmas im done, no more sugar", False),
        ("my mum rang everyone to say she loves the new baby photos", False),
        # Eighth round: written for this test, not copied from a labelled set.
        ("my sister says shes really going to go through with it this time", True),
        ("we're going through with it, the surgery is on monday", False),
        ("the when and the where are sorted now", True),
        ("been saving up my tablets and I think it would be enough", True),
        ("by sunday night it will all be over, love you all", True),
        ("she wont be anyones problem anymore, she told me", True),
        ("my uncle keeps saying the insurance money would help us more than he does", True),
        ("if my team loses tonight I'll kill myself lol", False),
        ("he'd rather die than wear a tie to the wedding", False),
        ("used my coping skills instead of hurting myself", False),
        ("my mum is moving into a care home, giving her things away to the grandkids", False),
        ("the cutting is back and it's every night", True),
        # Ninth round: written for this test, not copied from a labelled set.
        ("my uncle keeps talking about taking himself out, he means it", True),
        ("I'm taking myself out for dinner after this week", False),
        ("my family could finally rest if I were gone", True),
        ("my nan says she's just in the way now", True),
        ("picked my date, the end of next month", True),
        ("we picked a date for the christening, the 4th", False),
        ("I've got everything I need now, it's in the garage", True),
        ("got everything I need for the cake", False),
        ("he said he'll do it after his exams finish", True),
        ("please look after mum for me", True),
        ("took them all an hour ago, feel sick", True),
        ("she's five years clean from self harm and doing great", False),
        ("never have I thought about ending my life, I promise", False),
        ("why keep going when nothing changes", True),
        # Tenth round: written for this test, not copied from a labelled set.
        ("i wouldnt mind if the train crashed on my way in tomorrow", True),
        ("he wishes hed died in that fire with his crew", True),
        ("my thoughts keep drifting to unalive stuff at night", True),
        ("she locked herself in the garage and the engine is on", True),
        ("logging off for good, thank you all", True),
        ("logging off for the night, thank you all", False),
        ("keeping the pills in my drawer in case i decide", True),
        ("after christmas im done with all of it", True),
        ("friday is my last day and im ready", True),
        ("friday is my last day at work, so ready for the new job", False),
    ],
)
def test_matching_examples(text: str, hit: bool) -> None:
    assert PhraseList.load().matches(text) is hit


def test_plain_lines_match_whole_words_only() -> None:
    phrases = PhraseList.parse("# a comment\n\nno reason to live\n")
    assert phrases.matches("There is NO reason to   live.")
    assert not phrases.matches("no reason to liven up the room")


def test_aliases_and_quiet_lines_do_what_the_header_says() -> None:
    phrases = PhraseList.parse(
        "alias: kms => kill myself\n"
        "re: \\bkill myself\\b\n"
        "topic: \\bsuicide\\b\n"
        "quiet-before: \\bnot\\b\n"
        "quiet-sentence: \\bago\\b\n"
    )
    assert phrases.matches("KMS.")
    # A negation in the 4 words just before the match, in the same clause, quiets it...
    assert not phrases.matches("I'm not going to kill myself")
    # ...but not one further back, nor one in another clause.
    assert phrases.matches("not sure why but i want to kill myself")
    assert phrases.matches("I'm not ok, I want to kill myself")
    # A quiet-sentence pattern quiets its own sentence only.
    assert not phrases.matches("Years ago I wanted to kill myself")
    assert phrases.matches("That was years ago. Now I want to kill myself again")
    # A topic word is quiet in a question, a plain pattern is not.
    assert not phrases.matches("Is suicide more common in winter?")
    assert phrases.matches("Thinking about suicide.")
    assert phrases.matches("Why do I want to kill myself?")


def test_a_bad_pattern_names_its_line() -> None:
    with pytest.raises(PhraseListError, match="line 2"):
        PhraseList.parse("ok phrase\nre: (unclosed\n")
    with pytest.raises(PhraseListError, match="line 1"):
        PhraseList.parse("alias: no arrow\nre: x\n")
    with pytest.raises(PhraseListError, match="no phrases"):
        PhraseList.parse("# only comments\nquiet-before: not\n")


# --- the optional classifier ----------------------------------------------------------------
MISSING = safety_model.missing()


class _Remembering(safety_model.SafetyClassifier):
    """The shared classifier, remembering each text's probability for this test process only
    (the bot never keeps a text): the rules measured here score every training message, and
    embedding them once instead of once per rule keeps the suite's run in minutes."""

    def __init__(self, shared: safety_model.SafetyClassifier) -> None:
        super().__init__(shared._encoder, shared._weights)
        self._lock = shared._lock
        self._seen: dict[str, float] = {}

    def probability(self, text: str) -> float:
        if text not in self._seen:
            self._seen[text] = super().probability(text)
        return self._seen[text]


_remembering: list[_Remembering] = []


def classifier_for_tests() -> safety_model.SafetyClassifier:
    """The shared classifier (the extra's), remembering probabilities (_Remembering)."""
    if not _remembering:
        _remembering.append(_Remembering(safety_model.shared_classifier()))
    return _remembering[0]


def _fires_on(detector: Detector, examples: tuple[Example, ...]) -> float:
    fired = [e.text for e in examples if detector.matches(e.text)]
    # Never used to tune or train either: a count only, like the held-out set.
    print(f"\n{detector.name} on ordinary chatter: fires on {len(fired)} of {len(examples)}")
    return len(fired) / len(examples)


def test_matcher_stays_quiet_on_ordinary_chatter() -> None:
    assert _fires_on(PhraseList.load(), ORDINARY) == 0


# The classifier fired on 1 of the 40 ordinary messages in the fourth and fifth rounds (a
# logistic regression); the sixth round's networks fire on 2 (so does the bot's combination).
# In cross-validation they fire on as many chatter negatives as the regression did (5 of 137)
# but on more of all the sets' everyday messages (46 of 365, against 32): the price of their
# recall, said in the README. The seventh round's (refitted with set 6 and tuning7, threshold
# 0.91, the matcher gated at 0.25) fire on 1, alone and in the bot's rule; the eighth round's
# (threshold 0.96, floor 0.05) on 0, alone and in the rule; the ninth round's (refitted with set
# 8 and tuning9, threshold 0.96, floor 0.3) on 0, alone and in the rule. More than 2 fails.
CLASSIFIER_ORDINARY_MAX = 2 / 40


@pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
def test_the_extras_detectors_stay_nearly_quiet_on_ordinary_chatter() -> None:
    classifier = classifier_for_tests()
    assert _fires_on(classifier, ORDINARY) <= CLASSIFIER_ORDINARY_MAX
    combined = safety_model.combined(PhraseList.load(), classifier)
    assert _fires_on(combined, ORDINARY) <= CLASSIFIER_ORDINARY_MAX


# Floors on the training sets pooled for the extra's detectors, (precision, recall): what the
# nets were fitted on, so not a claim about new messages (bench/safety.py --cv gives the
# cross-validated figures); they catch weights that were not refitted, or scored wrongly.
# Sixth round, measured: classifier 0.973 / 0.999; matcher or classifier 0.966 / 1.000 (the
# fifth round's logistic regression: recall about 0.7, so these fail with its weights).
# Seventh round (refitted with set 6 and tuning7; threshold 0.91, matcher floor 0.25): the
# classifier 0.964 / 0.985 (set 6 itself 0.880 / 0.981: the nets do not memorise it); the
# bot's rule 0.959 / 0.996. Eighth round, held-out 7 retired into the pool before the refit
# (the seventh round's weights never saw it: set 7 alone 0.927 / 0.786): the classifier 0.961
# / 0.963, the rule 0.956 / 0.984. Refitted on all 3924 training messages (set 7 and tuning8
# in), the rule chosen by the CV (threshold 0.96, matcher floor 0.05): the classifier alone
# 0.967 / 0.852 (its recall floor drops because its threshold rose from 0.91 to 0.96: the
# new nets are surer, and 0.96 is what the second-worst fold's precision asked for); the rule
# 0.960 / 0.983 (set 7: 0.968 / 0.995). Ninth round, held-out 8 retired into the pool before
# the refit (the eighth round's weights never saw it: set 8 alone 0.914 / 0.701, the rule
# 0.891 / 0.851): the classifier 0.959 / 0.826, the rule 0.949 / 0.960, so the floors drop
# for that reason only. Refitted on all 4937 training messages (set 8 and tuning9 in), the rule
# chosen by the CV (threshold 0.96, matcher floor 0.3): the classifier alone 0.964 / 0.882
# (set 8: 0.946 / 0.912; the nets do not memorise it), the rule 0.962 / 0.984 (set 8: 0.939 /
# 0.983). Tenth round, held-out 9 retired into the pool before the refit (the ninth round's
# weights never saw it: set 9 alone 0.936 / 0.724, the rule 0.924 / 0.863, its 856 messages
# with the 6 that equal a training one): the classifier 0.960 / 0.859, the rule 0.957 / 0.966,
# so the floors drop for that reason only. Refitted on all 5948 training messages (set 9 and
# tuning10 in; the ninth round's numbers still chosen by bench/safety.py's CV: threshold 0.96,
# matcher floor 0.3): the classifier alone 0.962 / 0.851 (set 9: 0.959 / 0.835), the ninth
# round's rule 0.959 / 0.974 (set 9: 0.948 / 0.948). The bot's rule with the extra is now the
# full rule (test_safety_watch_en).
CLASSIFIER_TRAINING_FLOORS = {
    "classifier": (0.96, 0.85),
    "matcher checked by classifier, or classifier": (0.95, 0.97),
}


@pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
def test_classifier_training_figures() -> None:
    """The extra's detectors on every training set (misses and false alarms printed in full),
    and their pooled floors."""
    classifier = classifier_for_tests()
    combined = safety_model.combined(PhraseList.load(), classifier)
    for detector in (classifier, combined):
        _training_figures(detector)
        precision, recall = _pooled(detector)
        floor = CLASSIFIER_TRAINING_FLOORS[detector.name]
        assert precision >= floor[0] and recall >= floor[1], (detector.name, floor)


@pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
def test_classifier_held_out_figures() -> None:
    """The seventh to ninth rounds' rule (the matcher checked by the classifier, or the
    classifier; the bot's with the extra until the tenth round), with the shipped weights, on
    the newest held-out set. Every other detector, the bot's among them, is measured there
    by test_safety_watch_en.test_held_out_figures_of_every_detector."""
    _needs_held_out()
    combined = safety_model.combined(PhraseList.load(), classifier_for_tests())
    precision, recall = _report(combined, HELD_OUT_LABEL, HELD_OUT)
    _check_held_out(combined.name, precision, recall)


def test_classifier_pieces_are_the_message_and_its_sentences() -> None:
    assert safety_model.pieces("just one sentence here") == ["just one sentence here"]
    text = "Good group today. Honestly I want to die. See you Thursday!"
    assert safety_model.pieces(text) == [
        text,
        "Good group today.",
        "Honestly I want to die.",
        "See you Thursday!",
    ]
    long = " ".join(f"Sentence {n}." for n in range(100))
    parts = safety_model.pieces(long)
    assert parts[0] == long and len(parts) <= 1 + safety_model.MAX_PIECES
    assert " ".join(parts[1:]) == long  # runs of whole sentences, nothing dropped


class _FakeEncoder:
    """Stands in for the embedding model: a message's first number is its score's lever."""

    def __init__(self, lever: dict[str, float]) -> None:
        self.lever = lever

    def encode(self, texts: list[str], **_: object) -> list[list[float]]:
        return [[self.lever[t], *[0.0] * 383] for t in texts]


def test_gated_rule_needs_the_classifier_to_back_a_matcher_match() -> None:
    """The bot's rule with the extra (seventh round): a matcher match counts only when the
    classifier gives the message at least matcher_floor; the classifier alone fires from its
    threshold; while the model is still loading the matcher answers alone."""
    # One unit reading the first number: probability = logistic(lever - 5).
    net = safety_model.Net(((1.0, *[0.0] * 383),), (0.0,), (1.0,), -5.0)
    weights = safety_model.Weights((net,), threshold=0.9, matcher_floor=0.4)
    lever = {"kms lol": 0.0, "kms for real": 5.0, "quiet but sure": 10.0, "quiet, unsure": 5.0}
    classifier = safety_model.SafetyClassifier(_FakeEncoder(lever), weights)
    matcher = PhraseList.parse("kms\n")
    gated = safety_model.Gated(matcher, classifier)
    assert classifier.probability("kms lol") < 0.4 < classifier.probability("kms for real") < 0.9
    assert not gated.matches("kms lol")  # the matcher alone: not enough
    assert gated.matches("kms for real")  # the matcher, backed by the classifier
    assert gated.matches("quiet but sure")  # the classifier alone, past its threshold
    assert not gated.matches("quiet, unsure")
    assert safety_model.combined(matcher, classifier).matches("kms lol") is False
    # The Spanish list counts alone: the classifier was trained on English only.
    lever["ya no quiero vivir"] = 0.0
    spanish = PhraseList.parse("ya no quiero vivir\n")
    assert safety_model.Gated(matcher, classifier, spanish).matches("ya no quiero vivir")
    assert not safety_model.Gated(spanish, classifier).matches("ya no quiero vivir")
    release = threading.Event()
    loading = safety_model.LazyClassifier(load=lambda: (release.wait(), classifier)[1])
    assert safety_model.Gated(matcher, loading).matches("kms lol")  # model not ready yet
    assert not safety_model.Gated(matcher, loading).matches("quiet but sure")
    release.set()


def test_classifier_weights_ship_and_score_without_the_model() -> None:
    """The weights file is valid and its maths is plain Python (no numpy needed): a few nets
    of 384 inputs, their probabilities averaged."""
    weights = safety_model.Weights.load()
    assert weights.nets and 0 < weights.threshold < 1
    for net in weights.nets:
        assert len(net.hidden) == len(net.hidden_bias) == len(net.coef)
        assert all(len(row) == 384 for row in net.hidden)
    # A zero embedding: each unit gives max(0, its bias), the output the logistic of those.
    expected = []
    for net in weights.nets:
        z = net.intercept + sum(
            w * max(0.0, b) for w, b in zip(net.coef, net.hidden_bias, strict=True)
        )
        expected.append(1 / (1 + math.exp(-z)))
    zero = [0.0] * 384
    assert weights.probability(zero) == pytest.approx(sum(expected) / len(expected))


async def _world(db: Database, clock: FakeClock, **kw: bool) -> SafetyWorld:
    return await safety_world(db, clock, **kw)


async def test_a_match_sends_one_dm_and_one_alert_and_stores_nothing(
    db: Database, clock: FakeClock
) -> None:
    w = await _world(db, clock)
    outcome = await w.send(AT_RISK, author=42)
    assert isinstance(outcome, MessageOutcome) and outcome.watch is not None
    assert outcome.watch.result is WatchResult.ALERTED
    ((user, dm),) = w.io.dms
    assert user == 42 and dm.facilitators_told and dm.lines  # the server's crisis lines
    assert any(line.region == "US" for line in dm.lines)
    ((channel, alert),) = w.io.alerts
    assert channel == ALERTS and alert.author_id == 42 and alert.dm_delivered
    assert alert.jump_url == f"https://discord.com/channels/1/{GROUP_CHANNEL}/{alert.message_id}"
    assert not w.io.deleted and not w.port.modlog  # never a punishment
    # Nothing about the message or who matched was written anywhere.
    for table in await db.tables():
        for row in await db.fetchall(f"SELECT * FROM {table}"):
            assert "want to be here" not in " ".join(str(v) for v in tuple(row))
    assert await db.fetchval("SELECT COUNT(*) FROM mod_cases") == 0


async def test_cooldown_per_author_then_again_after_it(db: Database, clock: FakeClock) -> None:
    w = await _world(db, clock)
    await w.send(AT_RISK, author=42)
    second = await w.send("I can't go on like this", author=42)
    assert isinstance(second, MessageOutcome) and second.watch is not None
    assert second.watch.result is WatchResult.COOLING_DOWN
    await w.send(AT_RISK, author=43)  # someone else is not held back
    assert [u for u, _ in w.io.dms] == [42, 43] and len(w.io.alerts) == 2
    clock.advance(seconds=COOLDOWN.total_seconds())
    await w.send(AT_RISK, author=42)
    assert [u for u, _ in w.io.dms] == [42, 43, 42]


async def test_closed_dms_are_said_in_the_alert_and_nothing_is_posted_elsewhere(
    db: Database, clock: FakeClock
) -> None:
    w = await _world(db, clock)
    w.io.closed_dms.add(42)
    await w.send(AT_RISK, author=42)
    assert not w.io.dms
    ((channel, alert),) = w.io.alerts
    assert channel == ALERTS and not alert.dm_delivered


async def test_without_an_alerts_channel_the_author_still_gets_the_lines(
    db: Database, clock: FakeClock
) -> None:
    w = await _world(db, clock)
    await db.execute("UPDATE guild_settings SET alerts_channel_id = NULL")
    outcome = await w.send(AT_RISK)
    assert isinstance(outcome, MessageOutcome) and outcome.watch is not None
    assert not outcome.watch.alert_posted
    ((_, dm),) = w.io.dms
    assert not dm.facilitators_told and not w.io.alerts


async def test_only_group_channels_and_only_when_turned_on(db: Database, clock: FakeClock) -> None:
    w = await _world(db, clock, watch=False, automod=False)
    assert await w.send(AT_RISK) == MessageOutcome()
    await db.execute("UPDATE guild_settings SET safety_watch = 1")
    assert await w.send(AT_RISK, channel=OTHER_CHANNEL) == MessageOutcome()
    await db.execute("UPDATE groups SET status = 'archived'")
    assert await w.send(AT_RISK) == MessageOutcome()
    assert not w.io.dms and not w.io.alerts


async def test_ordinary_messages_do_nothing(db: Database, clock: FakeClock) -> None:
    w = await _world(db, clock)
    outcome = await w.send("Thanks everyone, tonight's group really helped")
    assert isinstance(outcome, MessageOutcome) and outcome.watch is not None
    assert outcome.watch.result is WatchResult.NO_MATCH
    assert not w.io.dms and not w.io.alerts and len(w.service.watch.cooldown) == 0


# --- never a stall: long and adversarial messages -------------------------------------------
ADVERSARIAL = (
    "if " * 1333,
    "😂" * 4000,
    "a " * 2000,
    "I want to " * 400,
    " ".join(str(n) for n in range(1100)),  # 4,000 characters of distinct words
    "word, " * 666,
)


@pytest.mark.parametrize("text", ADVERSARIAL, ids=lambda t: repr(t[:8]))
def test_matcher_reads_a_long_message_in_small_bounded_windows(text: str) -> None:
    """No regex ever reads more than one window of a sentence: the cost is linear in the
    message's length, and a repeated flood is read about once."""
    matcher = PhraseList.load()
    windows = matcher.sentences(text)
    longest = max(len(s.text) for s in windows)
    assert longest <= WINDOW_WORDS * 12, longest
    distinct_words = len(set(normalise(text).split()))
    if distinct_words < 5:
        assert len(windows) <= 4  # a flood of one word is not read 60 times over


def test_a_long_sentence_is_still_read_to_its_end() -> None:
    """The windows overlap: a crisis phrase late in a run-on sentence, or across a window's
    edge, is still found."""
    filler = " ".join(["and then we talked about the weekend plans with the kids"] * 30)
    matcher = PhraseList.load()
    assert matcher.matches(f"{filler} and honestly i want to kill myself")
    for cut in range(50, 70):
        words = filler.split()[:cut]
        assert matcher.matches(" ".join([*words, "i", "want", "to", "kill", "myself"]))
    assert not matcher.matches(filler)


async def _worst_stall(work: Callable[[], Awaitable[object]]) -> float:
    """The longest the event loop was late for a 2 ms timer while `work` ran, in seconds."""
    loop = asyncio.get_running_loop()
    done = False
    worst = 0.0

    async def heartbeat() -> None:
        nonlocal worst
        while not done:
            before = loop.time()
            await asyncio.sleep(0.002)
            worst = max(worst, loop.time() - before - 0.002)

    beat = asyncio.create_task(heartbeat())
    await asyncio.sleep(0)
    await work()
    done = True
    await beat
    return worst


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        sum(range(200))


async def test_the_event_loop_never_stalls_while_the_watch_reads(
    db: Database, clock: FakeClock
) -> None:
    """While the watch reads six 4,000-character adversarial messages, the event loop still
    answers its timers: the target is no stall over 50 ms. Any work in a Python thread costs
    the loop a little (the interpreter lock changes hands every few ms, later on a busy
    machine), so the same heartbeat is measured beside plain Python work in a thread for as
    long: on a machine too loaded for 50 ms, the watch must do no worse than that."""
    w = await _world(db, clock)

    async def watch() -> None:
        for text in ADVERSARIAL:
            outcome = await w.send(text[:4000], author=7)
            assert isinstance(outcome, MessageOutcome) and outcome.watch is not None

    start = time.perf_counter()
    stall = await _worst_stall(watch)
    took = time.perf_counter() - start
    control = await _worst_stall(lambda: asyncio.to_thread(_busy, took))
    print(
        f"\nreading took {took * 1000:.0f} ms; worst event-loop stall {stall * 1000:.1f} ms "
        f"(plain Python work in a thread: {control * 1000:.1f} ms)"
    )
    assert stall < max(0.050, 1.5 * control)


async def test_the_watch_reads_in_a_worker_thread(db: Database, clock: FakeClock) -> None:
    """The detector (matcher or classifier) never runs on the event loop's thread."""
    w = await _world(db, clock)
    matcher = PhraseList.load()
    threads: list[threading.Thread] = []

    class Recording:
        name = "recording"

        def matches(self, text: str) -> bool:
            threads.append(threading.current_thread())
            return matcher.matches(text)

    w.service.watch.phrases = Recording()
    outcome = await w.send(AT_RISK, author=42)
    assert isinstance(outcome, MessageOutcome) and outcome.watch is not None
    assert outcome.watch.result is WatchResult.ALERTED
    assert threads and threading.main_thread() not in threads
