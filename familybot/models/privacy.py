"""What `/my forget` reports: how many records of each kind were deleted."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ForgetReport:
    """Rows removed (or made anonymous) per holder."""

    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())
