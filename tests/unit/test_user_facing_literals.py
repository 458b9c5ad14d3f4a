"""No bare English sentence is handed to a person as an error: every UserFacingError (and
subclass) raised in the scanned folders gets its message from the catalog.

Read with `ast`, independently of familybot.i18n: the first argument of each call to
UserFacingError or one of its subclasses (found by walking class definitions, here and in
familybot/errors.py) must be

* a call to ``_``, ``ngettext``, ``pgettext`` or ``npgettext`` (bare or ``i18n.``), or such a
  call's ``.format(...)``;
* a name (a message built earlier, or a caught exception's text, ``str(exc)``, whose source
  is checked where it is raised), or ``str(NAME)`` of a lazy module-level constant;
* a call to a module-level function of the scanned folders whose every ``return`` is one of
  these (a helper that picks the sentence), or a conditional between two of these.

Anything else (a string literal, an f-string, a concatenation) is a leak, named with its
file and line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).parents[2]
# The groups and sessions services (issue #12, l10n1). The other services and the Discord
# adapters are being moved onto the catalog in parallel; widen this to ("familybot/services",
# "familybot/discord") once they are.
SCANNED = ("familybot/services", "familybot/discord")
# Texts for the operator at the command line (`familybot resources import`), not for members:
# the CLI is English, like every operator message (README "Languages").
OPERATOR_FACING = frozenset({"familybot/services/resources/importer.py"})
I18N_CALLS = frozenset({"_", "gettext", "ngettext", "pgettext", "npgettext"})
BASE = "UserFacingError"
# ValueErrors whose text callers show as it is (`UserFacingError(str(exc))`): the parsers of
# what people type, and /session edit's refusals.
SHOWN_VALUE_ERRORS = {
    "familybot/services/sessions/local_input.py": "ValueError",
    "familybot/services/sessions/series_rules.py": "ValueError",
    "familybot/services/sessions/series_edit.py": "EditRefused",
}


def _files(folders: tuple[str, ...]) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _trees(paths: list[Path]) -> dict[Path, ast.Module]:
    return {p: ast.parse(p.read_text(encoding="utf-8"), filename=str(p)) for p in paths}


def _name_of(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def error_classes(trees: dict[Path, ast.Module]) -> set[str]:
    """UserFacingError and every class that subclasses it, directly or not."""
    found = {BASE}
    classes = [n for t in trees.values() for n in ast.walk(t) if isinstance(n, ast.ClassDef)]
    changed = True
    while changed:
        changed = False
        for cls in classes:
            if cls.name not in found and any(_name_of(b) in found for b in cls.bases):
                found.add(cls.name)
                changed = True
    return found


def helper_functions(trees: dict[Path, ast.Module]) -> dict[str, list[ast.FunctionDef]]:
    helpers: dict[str, list[ast.FunctionDef]] = {}
    for tree in trees.values():
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                helpers.setdefault(node.name, []).append(node)
    return helpers


class Checker:
    def __init__(self, helpers: dict[str, list[ast.FunctionDef]]) -> None:
        self.helpers = helpers
        self._seen: set[str] = set()

    def allowed(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return True
        if isinstance(node, ast.IfExp):
            return self.allowed(node.body) and self.allowed(node.orelse)
        if isinstance(node, ast.BoolOp):  # `texts.get(what) or _("...")`
            return all(self.allowed(v) for v in node.values)
        if isinstance(node, ast.Subscript):  # a lazy constant from a table of them
            return isinstance(node.value, ast.Name | ast.Attribute)
        if not isinstance(node, ast.Call):
            return False
        func = node.func
        name = _name_of(func)
        if name in I18N_CALLS and node.args and isinstance(node.args[0], ast.Constant | ast.Name):
            return True
        if isinstance(func, ast.Attribute) and func.attr == "format":
            return self.allowed(func.value)
        if isinstance(func, ast.Name) and func.id == "str" and len(node.args) == 1:
            return self.allowed(node.args[0]) or isinstance(node.args[0], ast.Attribute)
        if isinstance(func, ast.Attribute) and func.attr == "get":  # a lookup in a table
            return True
        if isinstance(func, ast.Name) and func.id in self.helpers:
            return self._helper_ok(func.id)
        return False

    def _helper_ok(self, name: str) -> bool:
        if name in self._seen:  # recursion: judged by its other returns
            return True
        self._seen.add(name)
        try:
            returns = [
                r.value
                for fn in self.helpers[name]
                for r in ast.walk(fn)
                if isinstance(r, ast.Return) and r.value is not None
            ]
            return bool(returns) and all(self.allowed(v) for v in returns)
        finally:
            self._seen.discard(name)


def leaks(folders: tuple[str, ...]) -> Iterator[str]:
    trees = _trees(_files(folders))
    classes = error_classes({**trees, **_trees([ROOT / "familybot" / "errors.py"])})
    checker = Checker(helper_functions(trees))
    for path, tree in trees.items():
        if str(path.relative_to(ROOT)) in OPERATOR_FACING:
            continue
        shown = classes | {SHOWN_VALUE_ERRORS.get(str(path.relative_to(ROOT)), BASE)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _name_of(node.func) not in shown:
                continue
            first = node.args[0] if node.args else None
            if first is None or not checker.allowed(first):
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                yield f"{where}: {ast.unparse(first) if first is not None else '(no message)'}"


def test_errors_in_the_services_and_adapters_come_from_the_catalog() -> None:
    found = list(leaks(SCANNED))
    assert not found, "\n".join(found)


def test_the_scan_catches_literals_and_f_strings(tmp_path: Path) -> None:
    """The checker itself: bare text, f-strings and concatenations fail; catalog calls pass."""
    source = """
from familybot.errors import Conflict, UserFacingError
class Refused(Conflict): ...
def helper(): return _("Kind.")
def bad_helper(): return "Plain."
raise UserFacingError("Plain English.")
raise Conflict(f"Already in {name}.")
raise Refused("a" + b)
raise UserFacingError(bad_helper())
raise UserFacingError(_("Fine {x}.").format(x=1))
raise UserFacingError(ngettext("one", "{n} many", n).format(n=n))
raise UserFacingError(helper())
raise UserFacingError(message)
raise UserFacingError(str(LAZY))
raise UserFacingError(texts.get(what) or "Plain.")
raise UserFacingError(texts.get(what) or _("Kind."))
raise UserFacingError(str(MESSAGES[code]))
"""
    tree = ast.parse(source)
    classes = error_classes({Path("x.py"): tree, **_trees([ROOT / "familybot" / "errors.py"])})
    assert {"UserFacingError", "Conflict", "NotFound", "Refused"} <= classes
    checker = Checker(helper_functions({Path("x.py"): tree}))
    verdicts = [
        checker.allowed(n.args[0])
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and _name_of(n.func) in {"UserFacingError", "Conflict", "Refused"}
    ]
    assert verdicts == [False, False, False, False, True, True, True, True, True, False, True, True]
