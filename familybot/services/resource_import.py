"""Bulk import of vetted resources (the starter pack) from YAML or CSV, all-or-nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from familybot.db.connection import Database
from familybot.db.repositories.resources import NewResource, ResourceRepository
from familybot.errors import UserFacingError
from familybot.models import ResourceStatus
from familybot.services.resources import LIMITS, REVIEW_MONTHS, add_months, clean_fields

MAX_ROWS = 5000


@dataclass
class ImportReport:
    valid: list[NewResource] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "row N: problem"
    written: int = 0


def read_rows(path: Path) -> list[Mapping[str, object]]:
    """Rows from a .yaml/.yml (a list of mappings, or {resources: [...]}) or a .csv file."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text)
        if isinstance(data, dict):
            data = data.get("resources")
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise UserFacingError(
                "The YAML file should be a list of resources (or have a `resources:` list)."
            )
        return list(data)
    if path.suffix.lower() == ".csv":
        return [dict(r) for r in csv.DictReader(io.StringIO(text))]
    raise UserFacingError("Please give a .yaml, .yml or .csv file.")


def validate_rows(rows: list[Mapping[str, object]], *, allow_http: bool) -> ImportReport:
    report = ImportReport()
    if len(rows) > MAX_ROWS:
        report.errors.append(f"the file has {len(rows)} rows; the most at once is {MAX_ROWS}")
        return report
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        unknown = sorted(set(row) - set(LIMITS))
        if unknown:
            report.errors.append(f"row {number}: unknown column(s) {', '.join(unknown)}")
            continue
        try:
            item = clean_fields(row, allow_http=allow_http)
        except UserFacingError as error:
            report.errors.append(f"row {number}: {error.message}")
            continue
        if item.url in seen:
            report.errors.append(f"row {number}: same link as row {seen[item.url]}")
            continue
        seen[item.url] = number
        report.valid.append(item)
    return report


async def import_resources(
    db: Database,
    guild_id: int,
    rows: list[Mapping[str, object]],
    *,
    now: datetime,
    dry_run: bool = False,
    allow_http: bool = False,
) -> ImportReport:
    """Validate every row; write them all in one transaction only if every row is valid."""
    report = validate_rows(rows, allow_http=allow_http)
    if report.errors or dry_run or not report.valid:
        return report
    repo = ResourceRepository(db)
    due = add_months(now, REVIEW_MONTHS)
    async with db.transaction():
        for item in report.valid:
            await repo.create(
                guild_id,
                item,
                status=ResourceStatus.APPROVED,
                suggested_by=None,
                now=now,
                review_due_at=due,
            )
            # Vetted by the operator who imports the starter pack (no Discord user).
            report.written += 1
    return report
