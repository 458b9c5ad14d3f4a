"""Crisis lines' hours, notes and contacts: every text of the data file is in the catalog
(so it can be shown in Spanish), and only those texts change; names never do, and a
contact's numbers and keywords stay exactly as published."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from cogs.crisis_lines import LINE_TEXTS, translated
from familybot import i18n
from familybot.models.crisis import CrisisLine

DATA = Path(i18n.__file__).parent / "data" / "crisis_lines.csv"


def test_every_data_text_is_listed_for_the_catalog() -> None:
    with DATA.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    texts = {r[c] for r in rows for c in ("hours", "notes", "contact") if r[c]}
    texts -= {r["contact"] for r in rows if r["contact"].startswith("https://")}
    listed = {t.message for t in LINE_TEXTS}
    assert texts <= listed, sorted(texts - listed)


def test_a_contacts_numbers_keywords_and_links_survive_translation() -> None:
    with DATA.open(newline="", encoding="utf-8") as fh:
        contacts = {r["contact"] for r in csv.DictReader(fh)}
    for contact in contacts:
        line = CrisisLine(region="US", name="x", contact=contact)
        with i18n.using("es"):
            shown = translated(line).contact
        for token in re.findall(r"https://\S+|[\d-]{3,}|\b[A-Z]{3,}\b", contact):
            assert token in shown, (contact, shown)


def test_only_hours_notes_and_contacts_are_translated() -> None:
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
    assert shown.name == "Crisis Text Line"
    assert "HOME" in shown.contact and "741741" in shown.contact
    assert shown.contact != "Text HOME to 741741"
    assert shown.hours == "24 horas, todos los días"
    assert shown.notes.startswith("Apoyo gratuito por mensaje de texto")
    own = CrisisLine(region="US", name="Línea local", contact="555 0100", hours="Lunes 9-17")
    with i18n.using("es"):
        assert translated(own) == own  # an admin's own text is shown as written
