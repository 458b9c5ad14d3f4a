"""Bulk import of vetted resources (the starter pack) from YAML or CSV, all-or-nothing.

Hostile or broken files are refused with one line per problem, naming the row (the Nth
resource; for CSV the Nth line after the header) and its line in the file, and nothing is
written unless every row is valid. YAML is read without ever constructing objects: only plain
text values are accepted (no tags such as ``!!python/...``, no aliases, limited nesting), so
alias bombs and code-running tags can't do anything. Links follow the same rules as /resource
suggest (familybot.services.resources.urls). A link already in the server's library (in any state) is
left alone, so importing the same file twice adds nothing the second time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from familybot.db.connection import Database
from familybot.db.repositories.resources import NewResource, ResourceRepository
from familybot.errors import UserFacingError
from familybot.models import ResourceStatus
from familybot.services.resources.rules import LIMITS, REVIEW_MONTHS, add_months, clean_fields

MAX_ROWS = 5000
MAX_FILE_BYTES = 5_000_000
MAX_DEPTH = 4  # {resources: [ {title: text} ]} is three levels; one spare
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_YAML_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = ("str", "null", "int", "float", "bool", "timestamp", "seq", "map")
_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ImportFileError(UserFacingError):
    """The file as a whole can't be read; the message is one line naming the file."""


@dataclass
class Row:
    """One resource as read from the file: its place, its text fields, or why it can't be."""

    number: int
    line: int | None
    fields: dict[str, str | None]
    problem: str | None = None

    @property
    def where(self) -> str:
        return f"row {self.number}" + (f" (line {self.line})" if self.line else "")


@dataclass
class ImportReport:
    valid: list[NewResource] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "row N (line L): problem"
    written: int = 0
    present: int = 0  # valid rows whose link the library already holds: left alone


def _show(name: object, limit: int = 30) -> str:
    """A column name (or a tag) as it can be shown on one line."""
    text = "".join(ch if ch.isprintable() else "?" for ch in str(name))
    return repr(text[:limit] + ("…" if len(text) > limit else ""))


def read_rows(path: Path) -> list[Row]:
    """Rows from a .yaml/.yml (a list of mappings, or {resources: [...]}) or a .csv file."""
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".csv"):
        raise ImportFileError(f"{path}: please give a .yaml, .yml or .csv file.")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImportFileError(
                f"{path}: the file is {size} bytes; the most at once is {MAX_FILE_BYTES}."
            )
        data = path.read_bytes()
    except OSError as error:
        raise ImportFileError(f"{path}: could not read it ({error.strerror}).") from error
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ImportFileError(
            f"{path}, line {line}: this isn't UTF-8 text; save the file as UTF-8 and try again."
        ) from error
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ImportFileError(f"{path}, line {line}: the file contains a NUL character.")
    rows = _yaml_rows(text, path) if suffix in (".yaml", ".yml") else _csv_rows(text, path)
    if len(rows) > MAX_ROWS:
        raise ImportFileError(f"{path}: the file has over {MAX_ROWS} rows; import it in parts.")
    return rows


# --- YAML ---------------------------------------------------------------------------------------
def _yaml_problem(path: Path, error: yaml.YAMLError) -> ImportFileError:
    mark = getattr(error, "problem_mark", None)
    where = f"{path}, line {mark.line + 1}" if mark is not None else f"{path}"
    problem = " ".join(str(getattr(error, "problem", None) or "it isn't valid YAML").split())
    return ImportFileError(f"{where}: this isn't valid YAML ({problem[:120]}).")


def _check_shape(text: str, path: Path) -> None:
    """Walk the parser's events (no objects built): refuse aliases and deep nesting."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        line = event.start_mark.line + 1 if event.start_mark is not None else 0
        if isinstance(event, yaml.AliasEvent):
            raise ImportFileError(
                f"{path}, line {line}: YAML aliases (*{_show(event.anchor)[1:-1]}) aren't "
                "allowed; write each resource out in full."
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise ImportFileError(
                    f"{path}, line {line}: nested too deeply; each resource should be a "
                    "simple list of fields (title, url, category, description, ...)."
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _yaml_value(node: yaml.Node) -> tuple[str | None, str | None]:
    """(text, problem) for one field's node; never constructs anything."""
    tag = node.tag
    if not tag.startswith(_YAML_TAG) or tag[len(_YAML_TAG) :] not in _PLAIN_TAGS:
        shown = tag.replace(_YAML_TAG, "!!")
        return None, f"has the YAML tag {_show(shown, 60)}, which isn't allowed; only plain text is"
    if isinstance(node, yaml.SequenceNode | yaml.MappingNode):
        return None, "should be text, not a list or a group of fields"
    if tag == _STR:
        return str(node.value), None
    if tag == _NULL:
        return None, None
    return None, "should be text; put it in quotes"


def _yaml_rows(text: str, path: Path) -> list[Row]:
    try:
        _check_shape(text, path)
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as error:
        raise _yaml_problem(path, error) from error
    shape = ImportFileError(
        f"{path}: the YAML file should be a list of resources (or have a `resources:` list)."
    )
    if root is not None and root.tag not in (_MAP, _SEQ):
        raise shape
    if isinstance(root, yaml.MappingNode):
        keys = [k.value if isinstance(k, yaml.ScalarNode) else None for k, _ in root.value]
        if keys != ["resources"]:
            raise shape
        root = root.value[0][1]
    if not isinstance(root, yaml.SequenceNode) or root.tag != _SEQ:
        raise shape
    rows: list[Row] = []
    for number, item in enumerate(root.value, start=1):
        row = Row(number, item.start_mark.line + 1, {})
        rows.append(row)
        if not isinstance(item, yaml.MappingNode):
            row.problem = "should be a resource with fields (title, url, category, description)"
            continue
        if item.tag != _MAP:
            tag = item.tag.replace(_YAML_TAG, "!!")
            row.problem = (
                f"has the YAML tag {_show(tag, 60)}, which isn't allowed; only plain text is"
            )
            continue
        problems: list[str] = []
        for key_node, value_node in item.value:
            if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == _STR):
                problems.append("has a field name that isn't plain text")
                continue
            name = str(key_node.value)
            if name in row.fields:
                problems.append(f"has the field {_show(name)} twice")
                continue
            value, problem = _yaml_value(value_node)
            if problem is not None:
                problems.append(f"the {_show(name)} {problem}")
            row.fields[name] = value
        if problems:
            row.problem = "; ".join(problems[:3])
    return rows


# --- CSV ----------------------------------------------------------------------------------------
def _csv_rows(text: str, path: Path) -> list[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[Row] = []
    header: list[str] | None = None
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue  # blank lines
            if header is None:
                header = [v.strip().lower() for v in values]
                _check_header(header, path)
                continue
            number = len(rows) + 1
            row = Row(number, reader.line_num, {})
            rows.append(row)
            if len(rows) > MAX_ROWS:
                break
            extra = values[len(header) :]
            if any(v.strip() for v in extra):
                row.problem = (
                    f"has {len(values)} values but the header names {len(header)} columns "
                    "(put text that contains commas in double quotes)"
                )
                continue
            row.fields = dict(zip(header, values, strict=False))
    except csv.Error as error:
        number = len(rows) + (1 if header is not None else 0)
        where = f"row {number} (line {reader.line_num})" if number else f"line {reader.line_num}"
        problem = str(error)
        if "field limit" in problem:
            problem = "a value is far longer than any field allows"
        raise ImportFileError(f"{path}, {where}: {problem}.") from error
    if header is None:
        raise ImportFileError(f"{path}: the file is empty; the first line should name the columns.")
    return rows


def _check_header(header: list[str], path: Path) -> None:
    where = f"{path}, line 1 (the header)"
    if "" in header:
        raise ImportFileError(f"{where}: a column has no name (is there a comma too many?).")
    unknown = [h for h in header if h not in LIMITS]
    if unknown:
        names = ", ".join(_show(h) for h in unknown[:5])
        raise ImportFileError(
            f"{where}: unknown column(s) {names}; the columns are {', '.join(LIMITS)}."
        )
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise ImportFileError(f"{where}: the column(s) {', '.join(twice)} appear twice.")


# --- validating and writing ---------------------------------------------------------------------
def _as_row(number: int, raw: Row | Mapping[str, object]) -> Row:
    if isinstance(raw, Row):
        return raw
    fields: dict[str, str | None] = {}
    problems: list[str] = []
    for name, value in raw.items():
        fields[str(name)] = value if isinstance(value, str) else None
        if value is not None and not isinstance(value, str):
            problems.append(f"the {_show(name)} should be text")
    return Row(number, None, fields, "; ".join(problems) or None)


def validate_rows(rows: Sequence[Row | Mapping[str, object]], *, allow_http: bool) -> ImportReport:
    report = ImportReport()
    if len(rows) > MAX_ROWS:
        report.errors.append(f"the file has {len(rows)} rows; the most at once is {MAX_ROWS}")
        return report
    seen: dict[str, int] = {}
    for number, raw in enumerate(rows, start=1):
        row = _as_row(number, raw)
        unknown = sorted(_show(name) for name in set(row.fields) - set(LIMITS))
        if unknown:
            names = ", ".join(u.strip("'\"") for u in unknown[:5])
            report.errors.append(f"{row.where}: unknown column(s) {names}")
            continue
        if row.problem is not None:
            report.errors.append(f"{row.where}: {row.problem}")
            continue
        try:
            item = clean_fields(row.fields, allow_http=allow_http)
        except UserFacingError as error:
            report.errors.append(f"{row.where}: {' '.join(error.message.split())}")
            continue
        if item.url in seen:
            report.errors.append(f"{row.where}: same link as row {seen[item.url]}")
            continue
        seen[item.url] = row.number
        report.valid.append(item)
    return report


async def import_resources(
    db: Database,
    guild_id: int,
    rows: Sequence[Row | Mapping[str, object]],
    *,
    now: datetime,
    dry_run: bool = False,
    allow_http: bool = False,
) -> ImportReport:
    """Validate every row; write them all in one transaction only if every row is valid.
    Rows whose link the server's library already holds are counted as present, not added."""
    report = validate_rows(rows, allow_http=allow_http)
    if report.errors or not report.valid:
        return report
    repo = ResourceRepository(db)
    if dry_run:
        existing = await repo.urls(guild_id)
        report.present = sum(1 for item in report.valid if item.url in existing)
        return report
    due = add_months(now, REVIEW_MONTHS)
    async with db.transaction():
        existing = await repo.urls(guild_id)
        for item in report.valid:
            if item.url in existing:
                report.present += 1
                continue
            # Vetted by the operator who imports the starter pack (no Discord user).
            await repo.create(
                guild_id,
                item,
                status=ResourceStatus.APPROVED,
                suggested_by=None,
                now=now,
                review_due_at=due,
            )
            report.written += 1
    return report
