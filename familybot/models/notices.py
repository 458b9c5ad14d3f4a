"""A short private message to one person (a DM), as several features send it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Notice:
    """A short private message to one person: rendered as an embed in a DM."""

    title: str
    body: str
