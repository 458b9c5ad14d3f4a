"""Moderation display: mod-log entries, a member's history, one case. Ids only, never names."""

from __future__ import annotations

from datetime import datetime

import discord

from familybot.models.moderation import Case, CaseView, ModLogEntry, describe_duration, entry_for
from familybot.ui.embeds import CALM, QUIET
from familybot.ui.text import channel_mention, clip, defuse, ts, user_mention

FAILED = discord.Colour(0xC9A227)

ACTION_NAMES = {
    "warn": "Warning",
    "note": "Note",
    "timeout": "Timeout",
    "untimeout": "Timeout removed",
    "kick": "Kick",
    "ban": "Ban",
    "unban": "Unban",
    "purge": "Purge",
    "slowmode": "Slowmode",
    "lock": "Channel locked",
    "unlock": "Channel unlocked",
    "automod": "Removed by automod",
}
STATUS_NAMES = {"done": "Done", "failed": "Failed: Discord refused", "pending": "In progress"}
DM_NAMES = {"sent": "Told by DM", "closed": "Couldn't be told: their DMs are closed"}


def action_name(action: str) -> str:
    return ACTION_NAMES.get(action, action)


def _actor(actor_id: int) -> str:
    return "FamilyBot (automatic)" if actor_id == 0 else f"{user_mention(actor_id)} ({actor_id})"


def _subject(target_id: int | None, channel_id: int | None) -> str:
    if target_id is not None:
        return f"{user_mention(target_id)} ({target_id})"
    if channel_id is not None:
        return channel_mention(channel_id)
    return "—"


def _length(seconds: int | None, expires_at: datetime | None) -> str | None:
    if seconds is None:
        return None
    text = describe_duration(seconds)
    if expires_at is not None:
        text += f", until {ts(expires_at, 'F')}"
    return text


def modlog_embed(entry: ModLogEntry) -> discord.Embed:
    title = f"Case #{entry.number} · {action_name(entry.action)}"
    if entry.heading:
        title += f" · {entry.heading}"
    embed = discord.Embed(
        title=title,
        colour=FAILED if entry.status == "failed" else CALM,
        timestamp=entry.created_at,
    )
    embed.add_field(
        name="Member" if entry.target_id else "Channel",
        value=_subject(entry.target_id, entry.channel_id),
    )
    embed.add_field(name="By", value=_actor(entry.actor_id))
    embed.add_field(name="Result", value=STATUS_NAMES.get(entry.status, entry.status))
    length = _length(entry.duration_seconds, entry.expires_at)
    if length:
        embed.add_field(name="Length", value=length, inline=False)
    embed.add_field(name="Reason", value=clip(defuse(entry.reason), 1024), inline=False)
    notes = [n for n in (entry.detail, DM_NAMES.get(entry.dm or "")) if n]
    if notes:
        embed.add_field(name="Notes", value=clip(" ".join(notes), 1024), inline=False)
    return embed


def _case_line(case: Case) -> str:
    line = f"**#{case.number}** {action_name(case.action)} · {ts(case.created_at, 'd')}"
    length = _length(case.duration_seconds, None)
    if length:
        line += f" · {length}"
    if case.status.value != "done":
        line += f" · {STATUS_NAMES[case.status.value]}"
    return f"{line}\n{clip(defuse(case.reason), 150)}"


def history_embed(target_id: int, cases: list[Case]) -> discord.Embed:
    embed = discord.Embed(title="Moderation history", colour=QUIET)
    if not cases:
        embed.description = f"No cases for {user_mention(target_id)}."
        return embed
    lines = [f"Cases for {user_mention(target_id)} ({target_id}), newest first:", ""]
    lines += [_case_line(c) for c in cases]
    embed.description = clip("\n".join(lines), 4096)
    embed.set_footer(text="Use /mod case with a number for the full record.")
    return embed


def case_embed(view: CaseView) -> discord.Embed:
    case = view.case
    embed = modlog_embed(entry_for(case))
    if view.reason_history:
        changes = [
            f"{ts(c.changed_at, 'd')} by {user_mention(c.changed_by)}: was “{clip(defuse(c.old_reason), 120)}”"
            for c in view.reason_history
        ]
        embed.add_field(name="Earlier reasons", value=clip("\n".join(changes), 1024), inline=False)
    return embed
