"""Logging: one line per event, ids not names, never tokens or message content.

Two formats (LOG_FORMAT): `text`, a readable line ending in the message's key=value pairs,
and `json`, one JSON object per line with those pairs also under "fields" for log tools.
Either way a record never spans lines: a traceback's newlines are escaped as "\\n", so a
line-based collector keeps it with its event.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any, TextIO

LOG_FORMATS = ("text", "json")
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"

# Libraries whose DEBUG output holds what must never reach a log: discord.py logs request
# bodies and interaction tokens; aiosqlite logs each statement with its parameters (names,
# reasons). They stay at INFO or above even when LOG_LEVEL=DEBUG.
NEVER_DEBUG = ("discord", "discord.http", "discord.gateway", "discord.client", "aiosqlite")

_PAIR_RE = re.compile(r"(?<![\w.])([a-z_]+)=(\S+)")


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def fields_of(message: str) -> dict[str, Any]:
    """The key=value pairs of a message, numbers as numbers."""
    out: dict[str, Any] = {}
    for key, raw in _PAIR_RE.findall(message):
        raw = raw.rstrip(",;:")
        out[key] = int(raw) if raw.isdigit() else raw
    return out


class OneLineFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", DATE_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return _one_line(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        payload: dict[str, Any] = {
            "time": self.formatTime(record, DATE_FORMAT),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        fields = fields_of(message)
        if fields:
            payload["fields"] = fields
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        # json.dumps escapes newlines inside strings, so this is always one line.
        return json.dumps(payload, ensure_ascii=False, default=str)


_API_ID = re.compile(r"(?<=/)\d{15,22}(?=/|$|\?)")


class RedactDiscordUrls(logging.Filter):
    """discord.py names the URL of a rate-limited request at WARNING, and a URL such as
    /channels/<group channel>/permissions/<user> or /guilds/…/members/<user>/roles/<group
    role> says who is in which group. Its ids become `{id}`; the method and route stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("discord") and isinstance(record.args, tuple):
            record.args = tuple(
                _API_ID.sub("{id}", a) if isinstance(a, str) and "/api/v" in a else a
                for a in record.args
            )
        return True


def configure_logging(level: str, fmt: str = "text", stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else OneLineFormatter())
    handler.addFilter(RedactDiscordUrls())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    floor = max(logging.INFO, logging.getLevelName(level))
    for name in NEVER_DEBUG:
        logging.getLogger(name).setLevel(floor)
    # APScheduler logs several lines per job run at INFO, which slows bursts.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
