"""Moderation display: mod-log entries, a member's history, one case. Ids only, never names."""

from __future__ import annotations

from datetime import datetime

import discord

from familybot.i18n import LazyString, _, lazy_pgettext, pgettext
from familybot.models.moderation import (
    Case,
    CaseOutcome,
    CaseView,
    ModLogEntry,
    describe_duration,
    entry_for,
)
from familybot.ui.embeds import CALM, QUIET
from familybot.ui.text import channel_mention, clip, defuse, ts, user_mention

FAILED = discord.Colour(0xC9A227)

# Translated when shown, in the reader's language (the case title and field values).
ACTION_NAMES: dict[str, LazyString] = {
    "warn": lazy_pgettext("embed-field", "Warning"),
    "note": lazy_pgettext("embed-field", "Note"),
    "timeout": lazy_pgettext("embed-field", "Timeout"),
    "untimeout": lazy_pgettext("embed-field", "Timeout removed"),
    "kick": lazy_pgettext("embed-field", "Kick"),
    "ban": lazy_pgettext("embed-field", "Ban"),
    "unban": lazy_pgettext("embed-field", "Unban"),
    "purge": lazy_pgettext("embed-field", "Purge"),
    "slowmode": lazy_pgettext("embed-field", "Slowmode"),
    "lock": lazy_pgettext("embed-field", "Channel locked"),
    "unlock": lazy_pgettext("embed-field", "Channel unlocked"),
    "automod": lazy_pgettext("embed-field", "Removed by automod"),
}
STATUS_NAMES: dict[str, LazyString] = {
    "done": lazy_pgettext("embed-field", "Done"),
    "failed": lazy_pgettext("embed-field", "Failed: Discord refused"),
    "pending": lazy_pgettext("embed-field", "In progress"),
}
DM_NAMES: dict[str, LazyString] = {
    "sent": lazy_pgettext("embed-field", "Told by DM"),
    "closed": lazy_pgettext("embed-field", "Couldn't be told: their DMs are closed"),
}


def action_name(action: str) -> str:
    found = ACTION_NAMES.get(action)
    return str(found) if found is not None else action


def _status(status: str) -> str:
    found = STATUS_NAMES.get(status)
    return str(found) if found is not None else status


def _actor(actor_id: int) -> str:
    if actor_id == 0:
        return pgettext("embed-field", "FamilyBot (automatic)")
    return f"{user_mention(actor_id)} ({actor_id})"


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
        text = _("{length}, until {until}").format(length=text, until=ts(expires_at, "F"))
    return text


def modlog_embed(entry: ModLogEntry) -> discord.Embed:
    title = pgettext("embed-title", "Case #{number} · {action}").format(
        number=entry.number, action=action_name(entry.action)
    )
    if entry.heading:
        title += f" · {entry.heading}"
    embed = discord.Embed(
        title=title,
        colour=FAILED if entry.status == "failed" else CALM,
        timestamp=entry.created_at,
    )
    embed.add_field(
        name=pgettext("embed-field-name", "Member")
        if entry.target_id
        else pgettext("embed-field-name", "Channel"),
        value=_subject(entry.target_id, entry.channel_id),
    )
    embed.add_field(name=pgettext("embed-field-name", "By"), value=_actor(entry.actor_id))
    embed.add_field(name=pgettext("embed-field-name", "Result"), value=_status(entry.status))
    length = _length(entry.duration_seconds, entry.expires_at)
    if length:
        embed.add_field(name=pgettext("embed-field-name", "Length"), value=length, inline=False)
    embed.add_field(
        name=pgettext("embed-field-name", "Reason"),
        value=clip(defuse(entry.reason), 1024),
        inline=False,
    )
    told = DM_NAMES.get(entry.dm or "")
    notes = [n for n in (entry.detail, str(told) if told is not None else None) if n]
    if notes:
        embed.add_field(
            name=pgettext("embed-field-name", "Notes"),
            value=clip(" ".join(notes), 1024),
            inline=False,
        )
    return embed


def _case_line(case: Case) -> str:
    line = f"**#{case.number}** {action_name(case.action)} · {ts(case.created_at, 'd')}"
    length = _length(case.duration_seconds, None)
    if length:
        line += f" · {length}"
    if case.status.value != "done":
        line += f" · {_status(case.status.value)}"
    return f"{line}\n{clip(defuse(case.reason), 150)}"


def history_embed(target_id: int, cases: list[Case]) -> discord.Embed:
    embed = discord.Embed(title=pgettext("embed-title", "Moderation history"), colour=QUIET)
    if not cases:
        embed.description = _("No cases for {member}.").format(member=user_mention(target_id))
        return embed
    heading = _("Cases for {member} ({id}), newest first:").format(
        member=user_mention(target_id), id=target_id
    )
    lines = [heading, ""]
    lines += [_case_line(c) for c in cases]
    embed.description = clip("\n".join(lines), 4096)
    embed.set_footer(
        text=pgettext("embed-footer", "Use /mod case with a number for the full record.")
    )
    return embed


def case_embed(view: CaseView) -> discord.Embed:
    case = view.case
    embed = modlog_embed(entry_for(case))
    if view.reason_history:
        changes = [
            _("{day} by {member}: was “{reason}”").format(
                day=ts(c.changed_at, "d"),
                member=user_mention(c.changed_by),
                reason=clip(defuse(c.old_reason), 120),
            )
            for c in view.reason_history
        ]
        embed.add_field(
            name=pgettext("embed-field-name", "Earlier reasons"),
            value=clip("\n".join(changes), 1024),
            inline=False,
        )
    return embed


def case_reply(outcome: CaseOutcome) -> str:
    """The private reply to the facilitator who ran a /mod action."""
    case = outcome.case
    name = action_name(case.action).lower()
    if outcome.error:
        lines = [
            _("Case #{number} ({action}) is recorded as **failed**. {error}").format(
                number=case.number, action=name, error=outcome.error
            )
        ]
    else:
        done = _("Done: case #{number} ({action}).").format(number=case.number, action=name)
        lines = [done + (f" {case.detail}" if case.detail else "")]
    if case.dm == "sent":
        lines.append(_("They were told by DM, with the reason."))
    elif case.dm == "closed":
        lines.append(
            _(
                "I couldn't tell them by DM (their direct messages are closed); that's noted on "
                "the case."
            )
        )
    if outcome.modlog_missing:
        lines.append(
            _(
                "The mod log isn't set up, so the case is stored but not posted. An admin can "
                "choose a channel with `/setup modlog`."
            )
        )
    elif not outcome.modlog_posted:
        lines.append(_("I couldn't post it to the mod log, but the case is stored."))
    return "\n".join(lines)
