"""The safety watch's labelled sets.

Held out (never read by a tuner, never used to tune or train): the newest heldoutN.tsv not
in RETIRED (held-out 10 from the tenth round on, written on another branch and merged by the
lead after the round's tuning), and ordinary.tsv (a false-alarm check on plain chatter).
Training: tuning.tsv, tuning7.tsv, tuning8.tsv, tuning9.tsv and tuning10.tsv (written by the
seventh, eighth, ninth and tenth rounds' tuners), chatter.tsv (ordinary-chatter negatives) and the RETIRED sets (held
out in earlier rounds: 1-3 retired in the fourth round, 4 in the fifth, 5 in the sixth, 6 in
the seventh, 7 in the eighth, 8 in the ninth, 9 in the tenth). See the header of heldout.tsv
for provenance, columns, categories and the labelling rule. Held-out 8 and 9 each have two parts by two hands (their
headers).
Spanish: the training sets in SPANISH_TRAINING (es_heldout1 retired in the second Spanish
round, es_heldout2 in the third, when the Spanish classifier was fitted); held out, the newest
es_heldoutN.tsv not in SPANISH_RETIRED (newest_held_out("es_heldout"): es_heldout3, measured
once by the lead after the third Spanish round).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
# Held-out sets whose texts have been read and used to tune and train: training data now.
RETIRED = (
    "heldout",
    "heldout2",
    "heldout3",
    "heldout4",
    "heldout5",
    "heldout6",
    "heldout7",
    "heldout8",
    "heldout9",
)
# Spanish (#17 item 4): the training sets, each written by a different hand (the list's
# writer; held-out 1's writer, retired in the second Spanish round; that round's helper;
# held-out 2's writer, retired in the third round after its one measurement), and the
# held-out sets (the newest es_heldoutN not in SPANISH_RETIRED, merged by the lead).
SPANISH_TRAINING = ("es_tuning", "es_heldout1", "es_tuning2", "es_heldout2")
SPANISH_RETIRED = ("es_heldout1", "es_heldout2")
# The English training sets, in the order the classifier is fitted on them (bench/safety.py):
# the tuning sets, the retired held-out sets, the chatter negatives.
ENGLISH_TRAINING = ("tuning", "tuning7", "tuning8", "tuning9", "tuning10", *RETIRED, "chatter")
# Every English set but the held-out one (which newest_held_out finds): the ordinary chatter
# check and the training sets.
SETS = ("ordinary", *ENGLISH_TRAINING)


@dataclass(frozen=True)
class Example:
    at_risk: bool
    category: str
    person: str
    text: str


def load(name: str) -> tuple[Example, ...]:
    """One set by name (see SETS); a malformed line fails loudly."""
    rows = []
    lines = (HERE / f"{name}.tsv").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line or line.startswith("#") or line.startswith("label\t"):
            continue
        fields = line.split("\t")
        if len(fields) != 4 or fields[0] not in ("0", "1") or not fields[3].strip():
            raise ValueError(f"{name}.tsv line {number}: expected label, category, person, text")
        label, category, person, text = fields
        rows.append(Example(label == "1", category, person, text))
    return tuple(rows)


def newest_held_out(prefix: str = "heldout") -> str | None:
    """The name of the newest held-out set ("heldout9"; with prefix "es_heldout", the
    newest Spanish one), or None when every such set here is retired (a branch without the
    next set)."""
    numbered = []
    for path in HERE.glob(f"{prefix}*.tsv"):
        suffix = path.stem.removeprefix(prefix)
        if path.stem not in RETIRED + SPANISH_RETIRED and suffix.isdigit():
            numbered.append((int(suffix), path.stem))
    return max(numbered)[1] if numbered else None


def sizes(examples: tuple[Example, ...]) -> Counter[tuple[int, str]]:
    """How many messages per (label, category)."""
    return Counter((int(e.at_risk), e.category) for e in examples)
