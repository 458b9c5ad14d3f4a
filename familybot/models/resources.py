"""The resource library's result types and the limit its review reasons share."""

from __future__ import annotations

from dataclasses import dataclass

from familybot.models import Resource

REASON_MAX = 500


@dataclass(frozen=True)
class ResourceListing:
    """The first `limit` approved resources in list order, and how many there are in all."""

    items: list[Resource]
    total: int


@dataclass(frozen=True)
class ReviewDecision:
    resource: Resource
    approved: bool
    already_decided: bool = False
    suggester_told: bool = False
