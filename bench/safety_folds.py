"""The safety watch's training folds and the matcher's answer in each (one fold per labelled
set), shared by bench/safety.py (the classifier) and bench/safety_en.py (the n-gram model).
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from familybot.services.safety.lists import SPANISH_PHRASES_FILE, PhraseLists  # noqa: E402
from familybot.services.safety.watch import (  # noqa: E402
    ALIAS_PREFIX,
    CLAUSE_CUT_PREFIX,
    PHRASES_FILE,
    QUIET_BEFORE_PREFIX,
    QUIET_SENTENCE_PREFIX,
    PhraseList,
)
from tests.data.safety import ENGLISH_TRAINING, RETIRED, Example, load  # noqa: E402

# What the classifier is trained on (tenth round): the tuning sets, held-out sets 1-9 (retired
# as held-out: their texts may now be read) and the chatter negatives. Held-out 10 never.
TRAINING_SETS = ENGLISH_TRAINING
# The cross-validation folds: one per labelled set, each written by a different hand, so each
# fold is scored on messages written by a hand the fold's model never read (pooled shuffled
# folds leak a writer's style and were over-optimistic: held-out 6 came out at 0.743 precision
# where they promised 0.85). Chatter is dealt round-robin.
FOLD_SETS = tuple(name for name in ENGLISH_TRAINING if name != "chatter")
# Training sets written after reading a set, so not independent of it: left out of the fit of
# that set's fold (and, from the eighth round, of the support a matcher line needs there)
# (tuning7 was written from held-out 6's misses and false alarms, tuning8 from held-out 7's,
# tuning9 from held-out 8's, tuning10 from held-out 9's, each with the other training sets').
FITTED_AFTER = {
    "heldout6": ("tuning7",),
    "heldout7": ("tuning8",),
    "heldout8": ("tuning9",),
    "heldout9": ("tuning10",),
}
# The folds the rule is chosen on: every set written by a hand that never tuned (the retired
# held-out sets). The tuning sets' folds are printed, not used to choose.
CHOOSE_ON = RETIRED
# The rule is chosen so that the LOW QUANTILE of these folds (the second-worst of nine), not
# the pooled figure, reaches the precision asked for: the next hand's set will differ from
# all of ours, and the worst fold of nine is one set's quirks.
CHOOSE_PRECISION = 0.90
QUANTILE_RANK = 1  # 0: the worst fold; 1: the second-worst


def folds_of(name: str, count: int) -> list[int]:
    """The fold of each message of a training set: its own set's, chatter dealt round-robin."""
    if name in FOLD_SETS:
        return [FOLD_SETS.index(name)] * count
    return [i % len(FOLD_SETS) for i in range(count)]


def per_fold(
    pred: list[bool], truth: list[bool], fold: list[int]
) -> dict[str, tuple[float, float]]:
    """(precision, recall) of each fold, by set name."""
    out = {}
    for k, name in enumerate(FOLD_SETS):
        at = [i for i, f in enumerate(fold) if f == k]
        out[name] = _pr([pred[i] for i in at], [truth[i] for i in at])
    return out


def low_quantile(figures: dict[str, tuple[float, float]]) -> tuple[float, float]:
    """(precision, recall) at QUANTILE_RANK over the CHOOSE_ON folds, each taken separately."""
    precisions = sorted(figures[n][0] for n in CHOOSE_ON)
    recalls = sorted(figures[n][1] for n in CHOOSE_ON)
    return precisions[QUANTILE_RANK], recalls[QUANTILE_RANK]


def _both(english: PhraseList) -> PhraseLists:
    """The matcher as the bot watches with it: this English list and the shipped Spanish one
    (both read every message; a match in either counts)."""
    return PhraseLists({PHRASES_FILE: english, SPANISH_PHRASES_FILE: _spanish()})


@functools.cache
def _spanish() -> PhraseList:
    return PhraseList.load(SPANISH_PHRASES_FILE)


# --- cross-validation by set (python bench/safety.py --cv) ----------------------------------
# The round's candidates: the phrase list's lines after ROUND_MARKER, and the older lines it
# edited (each right under a WAS comment giving the line as it was). In the fold that scores
# set k, a candidate is kept only when the OTHER sets support it: over their messages where it
# changes the answer, +1 for each it gets right and -2 for each it gets wrong, at least
# SUPPORT; otherwise a new line is left out and an edited line goes back to what it was. So
# a line written for one message of set k does not count when set k is scored (as if set k
# had been held out while the list was written). Lines that only catch messages another new
# line also catches get no credit here, so the figures lean low, not high.
ROUND_MARKER = "# === Fifth round ==="
WAS = "# was (before the fifth round): "
SUPPORT = 2


def _without(text: str, drop: set[int]) -> PhraseList:
    lines = text.splitlines()
    for number in drop:
        above = lines[number - 2] if number > 1 else ""
        lines[number - 1] = above.removeprefix(WAS) if above.startswith(WAS) else "# (left out)"
    return PhraseList.parse("\n".join(lines))


def matcher_folds(support: int = SUPPORT) -> tuple[list[Example], list[int], list[bool]]:
    """Every training message, its fold, and the fold's matcher's answer on it (the fold's
    English list with the shipped Spanish one, as the bot reads)."""
    text = (REPO_ROOT / "familybot" / "data" / PHRASES_FILE).read_text(encoding="utf-8")
    lines = text.splitlines()
    marker = next(i for i, line in enumerate(lines, start=1) if line.startswith(ROUND_MARKER))
    candidates = [
        n
        for n, line in enumerate(lines, start=1)
        if (n > marker or (n > 1 and lines[n - 2].startswith(WAS)))
        and line.strip()
        and not line.lstrip().startswith("#")
    ]
    examples: list[Example] = []
    fold: list[int] = []
    for name in TRAINING_SETS:
        rows = load(name)
        examples += rows
        fold += folds_of(name, len(rows))
    full = _both(PhraseList.parse(text))
    answer = [full.matches(e.text) for e in examples]
    # The English line that makes each match (None: no English match).
    english = PhraseList.parse(text)
    first = [english.first_match(e.text) for e in examples]
    # What each candidate changes: the messages whose answer differs without it. Leaving out
    # a new pattern line can only change the messages whose first counting English line it is
    # (any other counting line still matches), so only those are read again; an alias, a quiet
    # line or an edited line (its old version may match more) is read against every message.
    changes: dict[int, list[int]] = {}
    for n in candidates:
        loo = _both(_without(text, {n}))
        line = lines[n - 1].strip()
        pattern = not line.startswith(
            (ALIAS_PREFIX, QUIET_BEFORE_PREFIX, QUIET_SENTENCE_PREFIX, CLAUSE_CUT_PREFIX)
        ) and not (n > 1 and lines[n - 2].startswith(WAS))
        at = [i for i, f in enumerate(first) if f == n] if pattern else range(len(examples))
        changes[n] = [i for i in at if loo.matches(examples[i].text) != answer[i]]
    out = [False] * len(examples)
    for k in range(len(FOLD_SETS)):
        # Support comes from the other sets, less those written after reading set k.
        unread = {k, *(FOLD_SETS.index(n) for n in FITTED_AFTER.get(FOLD_SETS[k], ()))}
        drop = set()
        for n in candidates:
            gain = sum(
                1 if answer[i] == examples[i].at_risk else -2
                for i in changes[n]
                if fold[i] not in unread
            )
            if gain < support:
                drop.add(n)
        matcher = _both(_without(text, drop))
        print(
            f"fold {FOLD_SETS[k]}: {len(candidates) - len(drop)} of {len(candidates)} new lines kept"
        )
        for i, e in enumerate(examples):
            if fold[i] == k:
                out[i] = matcher.matches(e.text)
    return examples, fold, out


def _pr(pred: list[bool], truth: list[bool]) -> tuple[float, float]:
    tp = sum(1 for p, t in zip(pred, truth, strict=True) if p and t)
    fp = sum(1 for p, t in zip(pred, truth, strict=True) if p and not t)
    fn = sum(1 for p, t in zip(pred, truth, strict=True) if not p and t)
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)
