"""The safety watch: each detector's measured precision/recall, and what one message does."""

from __future__ import annotations

import pytest

from familybot.db.connection import Database
from familybot.services import safety_model
from familybot.services.safety import MessageOutcome
from familybot.services.safety_watch import (
    COOLDOWN,
    Detector,
    PhraseList,
    PhraseListError,
    WatchResult,
    normalise,
    score,
)
from tests.data.safety import Example, load, sizes
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
HELD_OUT_1 = load("heldout")
HELD_OUT_2 = load("heldout2")
HELD_OUT_3 = load("heldout3")
HELD_OUT = HELD_OUT_1 + HELD_OUT_2 + HELD_OUT_3
TUNING = load("tuning")
ORDINARY = load("ordinary")
# Measured, below the target: a floor so that it gets no worse (see the matcher's test).
# Recall on all three held-out sets: 0.796 before the third tuning round (0.630 on set 3
# alone), 0.864 after it (0.760 on set 3). Below the target, so the floor sits just under it.
MATCHER_RECALL_FLOOR = 0.86


def _report(
    detector: Detector, name: str, examples: tuple[Example, ...], *, held_out: bool = True
) -> tuple[float, float]:
    """Print a detector's figures on one set. For a held-out set only counts are printed (per
    category, never a message): whoever tunes the matcher must not see which held-out
    messages it misses. The tuning set's misses and false alarms are printed in full."""
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


def test_matcher_held_out_figures() -> None:
    """The default install's detector. Precision meets the issue's target; recall does not
    (0.864 on the three held-out sets, 0.760 on set 3, when this was written): the floor below
    catches a change that makes it worse, and the README says the shortfall plainly."""
    matcher = PhraseList.load()
    _report(matcher, "tuning set", TUNING, held_out=False)
    _report(matcher, "held-out set 1", HELD_OUT_1)
    _report(matcher, "held-out set 2", HELD_OUT_2)
    _report(matcher, "held-out set 3", HELD_OUT_3)
    precision, recall = _report(matcher, "all held-out sets", HELD_OUT)
    assert precision >= TARGET_PRECISION
    assert recall >= MATCHER_RECALL_FLOOR
    if recall < TARGET_RECALL:
        print(f"matcher recall {recall:.3f} is below the target {TARGET_RECALL}")


def test_labelled_sets_are_big_split_and_cover_every_category() -> None:
    assert len(HELD_OUT) >= 400 and len(HELD_OUT_1) >= 200 and len(HELD_OUT_3) >= 200
    for examples in (HELD_OUT_1, HELD_OUT_2, HELD_OUT_3, TUNING):
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
    # Not one held-out message was also used for tuning (nor twice within a set).
    held = [normalise(e.text) for e in HELD_OUT]
    tuned = [normalise(e.text) for e in TUNING]
    assert len(set(held)) == len(held) and len(set(tuned)) == len(tuned)
    assert not set(held) & set(tuned)


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
EITHER_PRECISION_FLOOR = 0.89


def _fires_on(detector: Detector, examples: tuple[Example, ...]) -> float:
    fired = [e.text for e in examples if detector.matches(e.text)]
    # Never used to tune either: a count only, like the held-out sets.
    print(f"\n{detector.name} on ordinary chatter: fires on {len(fired)} of {len(examples)}")
    return len(fired) / len(examples)


def test_matcher_stays_quiet_on_ordinary_chatter() -> None:
    assert _fires_on(PhraseList.load(), ORDINARY) == 0


@pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
def test_classifier_held_out_figures() -> None:
    """The optional classifier, measured side by side; the bot does not use it."""
    classifier = safety_model.shared_classifier()
    either = safety_model.Either(PhraseList.load(), classifier)
    _report(classifier, "tuning set", TUNING, held_out=False)
    _report(classifier, "held-out set 1", HELD_OUT_1)
    _report(classifier, "held-out set 2", HELD_OUT_2)
    _report(classifier, "held-out set 3", HELD_OUT_3)
    precision, recall = _report(classifier, "held-out sets 1 and 2", HELD_OUT_1 + HELD_OUT_2)
    e_precision, e_recall = _report(either, "held-out sets 1 and 2", HELD_OUT_1 + HELD_OUT_2)
    _report(classifier, "all held-out sets", HELD_OUT)
    _report(either, "all held-out sets", HELD_OUT)
    ordinary = _fires_on(classifier, ORDINARY)
    # Floors at the figures measured when written (below both targets for the classifier
    # alone; the list or the classifier meets the recall target at precision 0.8996), and
    # the reason the bot keeps the list alone: the classifier fires on ordinary chatter.
    assert precision >= 0.89 and recall >= 0.79
    assert e_recall >= TARGET_RECALL and e_precision >= 0.89
    assert ordinary > 0.05


def test_classifier_weights_ship_and_score_without_the_model() -> None:
    """The weights file is valid and its maths is plain Python (no numpy needed)."""
    weights = safety_model.Weights.load()
    assert len(weights.coef) == 384 and 0 < weights.threshold < 1
    zero = [0.0] * 384
    assert weights.probability(zero) == pytest.approx(
        1 / (1 + 2.718281828459045**-weights.intercept)
    )


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
