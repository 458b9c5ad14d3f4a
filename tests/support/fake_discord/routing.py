"""REST routing of the fake Discord: a request as recorded and as handed to a route handler,
route templates, and Discord's JSON answers. Paths are relative to /api/v10."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .common import JSON
from .errors import ApiError

API_PREFIX = "/api/v10"


@dataclass
class RecordedFile:
    field_name: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class Recorded:
    method: str
    path: str  # relative to /api/v10, e.g. /channels/1/messages
    query: dict[str, str]
    json_body: Any
    files: list[RecordedFile]
    status: int = 0
    route_name: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)  # when it arrived (for Retry-After checks)

    def matches(self, method: str, path_regex: str) -> bool:
        return self.method == method.upper() and re.fullmatch(path_regex, self.path) is not None


@dataclass
class Req:
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    json: Any
    files: list[RecordedFile] = field(default_factory=list)

    def body(self) -> JSON:
        return self.json if isinstance(self.json, dict) else {}

    def int_param(self, name: str) -> int:
        try:
            return int(self.params[name])
        except ValueError:
            raise ApiError(
                400,
                50035,
                "Invalid Form Body",
                {name: {"_errors": [{"code": "NUMBER_TYPE_COERCE"}]}},
            ) from None


Handler = Callable[[Req], Awaitable[Any]]
#: (method, path template, handler): what each resource module contributes.
RouteSpec = tuple[str, str, Handler]


@dataclass
class Route:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: Handler

    @classmethod
    def of(cls, method: str, template: str, handler: Handler) -> Route:
        return cls(method.upper(), template, compile_template(template), handler)

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


def compile_template(template: str) -> re.Pattern[str]:
    out = re.sub(
        r"\{(\w+)\}", r"(?P<\1>[^/]+)", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")
    )
    return re.compile("^" + out + "$")


def json_response(status: int, data: Any, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py compares Content-Type to exactly "application/json" (no charset).
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(status=status, body=json.dumps(data).encode(), headers=hdrs)
