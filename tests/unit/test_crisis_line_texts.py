"""Crisis lines' hours and notes: every text of the data file is in the catalog (so it can
be shown in Spanish), and only those texts change; names and contacts never do."""

from __future__ import annotations

import csv
from pathlib import Path

from cogs.crisis_lines import LINE_TEXTS, translated
from familybot import i18n
from familybot.models.crisis import CrisisLine

DATA = Path(i18n.__file__).parent / "data" / "crisis_lines.csv"


def test_every_data_text_is_listed_for_the_catalog() -> None:
    with DATA.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    texts = {r[c] for r in rows for c in ("hours", "notes") if r[c]}
    listed = {t.message for t in LINE_TEXTS}
    assert texts <= listed, sorted(texts - listed)


def test_only_hours_and_notes_are_translated() -> None:
    line = CrisisLine(
        region="US",
        name="Crisis Text Line",
        contact="Text HOME to 741741",
        hours="24/7",
        notes="Free support by text from a trained volunteer crisis counselor.",
    )
    assert translated(line) == line
    with i18n.using("es"):
        shown = translated(line)
    assert (shown.name, shown.contact) == ("Crisis Text Line", "Text HOME to 741741")
    assert shown.hours == "24 horas, todos los días"
    assert shown.notes.startswith("Apoyo gratuito por mensaje de texto")
    own = CrisisLine(region="US", name="Línea local", contact="555 0100", hours="Lunes 9-17")
    with i18n.using("es"):
        assert translated(own) == own  # an admin's own text is shown as written
