"""Request-body validation against Discord's official OpenAPI (3.1) spec.

The spec is vendored beside this module (``discord_api_spec/openapi.json``, MIT, with its
licence), so a fresh clone validates too; a missing copy fails the run, never skips it. It is
loaded once per process; validators are compiled lazily once per (operation, content type).

Leniency (deliberate, documented) applied to the in-memory copy only:

* Discord accepts snowflakes as JSON integers as well as strings, and discord.py sends both;
  the spec's ``SnowflakeType`` only allows strings -> widened to ``string | integer >= 0``.
* Permission bitfields (``permissions``, ``allow``, ``deny``, ``default_member_permissions``)
  are integers in the spec's request schemas but documented as strings and sent as strings by
  discord.py -> widened to ``integer | numeric string``.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]
from jsonschema.exceptions import best_match  # type: ignore[import-untyped, unused-ignore]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DEFAULT_SPEC_PATH = Path(__file__).resolve().parent / "discord_api_spec" / "openapi.json"
SPEC_URI = "urn:discord-api-spec"
_PERMISSION_FIELDS = frozenset({"permissions", "allow", "deny", "default_member_permissions"})


def _types(schema: dict[str, Any]) -> list[str]:
    t = schema.get("type")
    return [t] if isinstance(t, str) else list(t or [])


@dataclass(frozen=True)
class SpecOperation:
    method: str
    template: str
    operation_id: str
    content_types: tuple[str, ...]


def _pointer(*parts: str) -> str:
    escaped = [p.replace("~", "~0").replace("/", "~1") for p in parts]
    return "/" + "/".join(quote(p, safe="") for p in escaped)


def _widen_permission_fields(node: Any) -> None:
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            for name, prop in list(props.items()):
                if (
                    name in _PERMISSION_FIELDS
                    and isinstance(prop, dict)
                    and "integer" in _types(prop)
                ):
                    props[name] = {"anyOf": [prop, {"type": "string", "pattern": "^[0-9]+$"}]}
        for value in node.values():
            _widen_permission_fields(value)
    elif isinstance(node, list):
        for value in node:
            _widen_permission_fields(value)


class DiscordSpec:
    """Maps concrete (method, path) pairs to spec operations and validates bodies."""

    def __init__(self, doc: dict[str, Any]) -> None:
        doc = copy.deepcopy(doc)
        schemas = doc.get("components", {}).get("schemas", {})
        if "SnowflakeType" in schemas:
            schemas["SnowflakeType"] = {
                "anyOf": [schemas["SnowflakeType"], {"type": "integer", "minimum": 0}]
            }
        # Permission bitfields are documented as (and sent by discord.py as) numeric strings,
        # while the spec's request schemas only say integer.
        _widen_permission_fields(doc)
        self.doc = doc
        self.registry: Registry[Any] = Registry().with_resource(
            SPEC_URI, Resource.from_contents(doc, default_specification=DRAFT202012)
        )
        # (regex, literal segment count, template)
        self._templates: list[tuple[re.Pattern[str], int, str]] = []
        for template in doc.get("paths", {}):
            segments = template.strip("/").split("/")
            regex_parts = []
            literal = 0
            for seg in segments:
                if seg.startswith("{") and seg.endswith("}"):
                    regex_parts.append(r"[^/]+")
                else:
                    regex_parts.append(re.escape(seg))
                    literal += 1
            pattern = re.compile("^/" + "/".join(regex_parts) + "$")
            self._templates.append((pattern, literal, template))
        self._validators: dict[tuple[str, str, str], Draft202012Validator] = {}
        self._valid_bodies: set[tuple[str, str, str, str]] = set()

    def match(self, method: str, path: str) -> SpecOperation | None:
        """``path`` is relative to /api/v10, e.g. ``/channels/123/messages``."""
        best: tuple[int, str] | None = None
        for pattern, literal, template in self._templates:
            if pattern.match(path) and (best is None or literal > best[0]):
                ops = self.doc["paths"][template]
                if method.lower() in ops:
                    best = (literal, template)
        if best is None:
            return None
        template = best[1]
        op = self.doc["paths"][template][method.lower()]
        content = op.get("requestBody", {}).get("content", {})
        return SpecOperation(
            method=method.upper(),
            template=template,
            operation_id=op.get("operationId", ""),
            content_types=tuple(content),
        )

    def _validator(self, op: SpecOperation, content_type: str) -> Draft202012Validator:
        key = (op.method, op.template, content_type)
        validator = self._validators.get(key)
        if validator is None:
            ref = (
                SPEC_URI
                + "#"
                + _pointer(
                    "paths",
                    op.template,
                    op.method.lower(),
                    "requestBody",
                    "content",
                    content_type,
                    "schema",
                )
            )
            validator = Draft202012Validator({"$ref": ref}, registry=self.registry)
            self._validators[key] = validator
        return validator

    def validate_body(self, op: SpecOperation, body: Any, *, multipart: bool = False) -> list[str]:
        """Returns human-readable violations (empty list when valid)."""
        if not op.content_types:
            if body in (None, {}):
                return []
            return [f"{op.operation_id} takes no request body but got {str(body)[:100]}"]
        if multipart and "multipart/form-data" in op.content_types:
            content_type = "multipart/form-data"
        elif "application/json" in op.content_types:
            content_type = "application/json"
        else:
            content_type = op.content_types[0]
        # The same body again (the command sync at every bot start: ~3.5 s to validate on a
        # loaded 2-core machine, its Spanish localizations included) gets the same answer.
        memo_key = (op.method, op.template, content_type, json.dumps(body, sort_keys=True))
        if memo_key in self._valid_bodies:
            return []
        validator = self._validator(op, content_type)
        errors = list(validator.iter_errors(body))
        if not errors:
            if len(self._valid_bodies) < 256:
                self._valid_bodies.add(memo_key)
            return []
        err = best_match(errors)
        where = "/".join(str(p) for p in err.absolute_path) or "<root>"
        msg = err.message
        if len(msg) > 300:
            msg = msg[:300] + "..."
        return [f"{op.operation_id} ({content_type}) at {where}: {msg}"]


@lru_cache(maxsize=4)
def _load_spec(path: str) -> DiscordSpec:
    with open(path, encoding="utf-8") as fh:
        return DiscordSpec(json.load(fh))


class SpecMissing(RuntimeError):
    """The pinned spec is not where it should be: the run fails rather than skip validation."""


def load_spec(path: Path | None = None) -> DiscordSpec:
    """The pinned spec, or SpecMissing naming the path (never a silent skip)."""
    spec_path = (path or DEFAULT_SPEC_PATH).resolve()
    if not spec_path.is_file():
        raise SpecMissing(f"Discord OpenAPI spec not found at {spec_path}: it is vendored there")
    try:
        return _load_spec(str(spec_path))
    except (OSError, ValueError) as exc:
        raise SpecMissing(f"Discord OpenAPI spec at {spec_path} is unusable: {exc}") from exc
