"""The Spanish matcher, cross-validated: leave one Spanish set out, one fold per set.

    python bench/safety_es.py              # per-fold and pooled figures, before and after
    python bench/safety_es.py --support 1  # a looser rule for keeping a round's line
    python bench/safety_es.py --lines      # each of the round's lines: its gain per set

Each Spanish training set was written by a different hand (es_tuning: whoever wrote the
list; es_heldout1: a helper who never saw it, retired to training after its one measurement;
es_tuning2: the second Spanish round's helper, written before that helper read es_heldout1).
The matcher is scored as the bot reads a message: both lists (PhraseLists), the English one
as shipped.

The second round's candidates are the Spanish list's lines after ROUND_MARKER and the older
lines it edited (each right under a WAS comment giving the line as it was). In the fold that
scores set k, a candidate is kept only when the OTHER sets support it: over their messages
where it changes the answer, +1 for each it gets right and -2 for each it gets wrong, at
least SUPPORT; otherwise a new line is left out and an edited line goes back to what it was.
So a line written for a message of set k does not count when set k is scored. The lines from
before the round were tuned on es_tuning alone: the es_tuning fold flatters them, the other
two folds do not. "before" is the list as it was before the round, on every set.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from familybot.services.safety.lists import SPANISH_PHRASES_FILE, PhraseLists  # noqa: E402
from familybot.services.safety.watch import PHRASES_FILE, PhraseList  # noqa: E402
from tests.data.safety import SPANISH_TRAINING, Example, load  # noqa: E402

ROUND_MARKER = "# === Second Spanish round ==="
WAS = "# was (before the second Spanish round): "
SUPPORT = 2
SPANISH_FILE = REPO_ROOT / "familybot" / "data" / SPANISH_PHRASES_FILE


def _without(text: str, drop: set[int]) -> PhraseList:
    """The Spanish list with the candidate lines in `drop` left out (or as they were)."""
    lines = text.splitlines()
    for number in drop:
        above = lines[number - 2] if number > 1 else ""
        lines[number - 1] = above.removeprefix(WAS) if above.startswith(WAS) else "# (left out)"
    return PhraseList.parse("\n".join(lines), SPANISH_PHRASES_FILE)


def candidates(text: str) -> list[int]:
    """The round's lines: after ROUND_MARKER, or right under a WAS comment."""
    lines = text.splitlines()
    marker = next(i for i, line in enumerate(lines, start=1) if line.startswith(ROUND_MARKER))
    return [
        n
        for n, line in enumerate(lines, start=1)
        if (n > marker or (n > 1 and lines[n - 2].startswith(WAS)))
        and line.strip()
        and not line.lstrip().startswith("#")
    ]


def _pr(pred: list[bool], truth: list[bool]) -> tuple[float, float]:
    tp = sum(1 for p, t in zip(pred, truth, strict=True) if p and t)
    fp = sum(1 for p, t in zip(pred, truth, strict=True) if p and not t)
    fn = sum(1 for p, t in zip(pred, truth, strict=True) if not p and t)
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


def folds(
    support: int = SUPPORT, verbose: bool = False
) -> tuple[list[Example], list[int], list[bool], list[bool]]:
    """Every Spanish training message, its fold (its set), the fold's matcher's answer (both
    lists) and the answer of the list as it was before the round."""
    english = PhraseList.load(PHRASES_FILE)
    text = SPANISH_FILE.read_text(encoding="utf-8")
    found = candidates(text)
    examples: list[Example] = []
    fold: list[int] = []
    for k, name in enumerate(SPANISH_TRAINING):
        rows = load(name)
        examples += rows
        fold += [k] * len(rows)
    # The bot's matcher (PhraseLists) answers yes when either list does; the English list is
    # the same in every fold, so it is read once per message.
    english_hit = [english.matches(e.text) for e in examples]

    def answers(spanish: PhraseList) -> list[bool]:
        both = PhraseLists({PHRASES_FILE: english, SPANISH_PHRASES_FILE: spanish})
        assert both.lists[PHRASES_FILE] is english
        return [
            hit or spanish.matches(e.text) for hit, e in zip(english_hit, examples, strict=True)
        ]

    answer = answers(PhraseList.parse(text, SPANISH_PHRASES_FILE))
    before = answers(_without(text, set(found)))
    # What each candidate changes: the messages whose answer differs without it.
    changes: dict[int, list[int]] = {}
    for n in found:
        loo = answers(_without(text, {n}))
        changes[n] = [i for i, a in enumerate(loo) if a != answer[i]]
        if verbose:
            gains = [
                sum(
                    1 if answer[i] == examples[i].at_risk else -2
                    for i in changes[n]
                    if fold[i] == k
                )
                for k in range(len(SPANISH_TRAINING))
            ]
            print(f"line {n}: changes per set {gains}")
    out = [False] * len(examples)
    for k, name in enumerate(SPANISH_TRAINING):
        drop = set()
        for n in found:
            gain = sum(
                1 if answer[i] == examples[i].at_risk else -2 for i in changes[n] if fold[i] != k
            )
            if gain < support:
                drop.add(n)
        kept = answers(_without(text, drop))
        print(f"fold {name}: {len(found) - len(drop)} of {len(found)} of the round's lines kept")
        for i in range(len(examples)):
            if fold[i] == k:
                out[i] = kept[i]
    return examples, fold, out, before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--support", type=int, default=SUPPORT, help="see SUPPORT")
    parser.add_argument("--lines", action="store_true", help="each line's gain per set")
    args = parser.parse_args()
    examples, fold, after, before = folds(args.support, args.lines)
    truth = [e.at_risk for e in examples]
    print("| fold (set scored) | messages (at risk) | before P / R | after P / R |")
    print("|---|---:|---:|---:|")
    rows = [
        (name, [i for i, f in enumerate(fold) if f == k]) for k, name in enumerate(SPANISH_TRAINING)
    ]
    rows.append(("**all folds pooled**", list(range(len(examples)))))
    for name, at in rows:
        t = [truth[i] for i in at]
        p0, r0 = _pr([before[i] for i in at], t)
        p1, r1 = _pr([after[i] for i in at], t)
        print(f"| {name} | {len(at)} ({sum(t)}) | {p0:.3f} / {r0:.3f} | {p1:.3f} / {r1:.3f} |")


if __name__ == "__main__":
    main()
