"""Reports and /ask: the private space between one member and the facilitators (ids only)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class PrivateContact:
    """What opens a private space between one member and the facilitators: ids only."""

    guild_id: int
    channel_id: int  # where it was asked for: the thread's parent when a thread is possible
    name: str  # e.g. "private-report-12": says nothing about anyone
    number: int
    kind: str  # 'report' | 'ask'
    member_id: int
    facilitator_role_id: int
    category: str | None = None  # reports: at_risk | unkind | spam | other
    reported_author_id: int | None = None
    reported_message_id: int | None = None  # in channel_id
    question: str | None = None  # /ask: the member's own words, posted with mentions off


@dataclass(frozen=True)
class PrivateSpace:
    channel_id: int
    is_thread: bool  # False: a private text channel stood in for the thread


@dataclass(frozen=True)
class ContactAlert:
    guild_id: int
    number: int
    kind: str
    category: str | None
    space_id: int


class ReportKind(StrEnum):
    REPORT = "report"
    ASK = "ask"


class ReportCategory(StrEnum):
    AT_RISK = "at_risk"
    UNKIND = "unkind"
    SPAM = "spam"
    OTHER = "other"


@dataclass(frozen=True)
class ReportRequest:
    guild_id: int
    channel_id: int  # where the reported message is (and where the menu was used)
    reporter_id: int
    message_id: int
    author_id: int
    category: ReportCategory


@dataclass(frozen=True)
class AskRequest:
    guild_id: int
    channel_id: int
    member_id: int
    text: str


@dataclass(frozen=True)
class Opened:
    number: int
    kind: ReportKind
    space: PrivateSpace
    category: ReportCategory | None
    alerted: bool  # False: no alerts channel, or the note could not be posted

    @property
    def at_risk(self) -> bool:
        return self.category is ReportCategory.AT_RISK
