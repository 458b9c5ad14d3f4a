"""The `/setup audit` embed: the audit log's entries, newest first (ids only).

Recording entries is not rendering: it lives with the tree's wrapper (familybot.tree_audit)."""

from __future__ import annotations

import discord

from familybot.models.audit import AuditEntry, AuditResult, AuditTarget, TargetKind
from familybot.ui.text import channel_mention, role_mention, ts, user_mention

EMBED_LIMIT = 4096
CALM = 0x5B8DB8


def _target_text(target: AuditTarget | None) -> str:
    if target is None:
        return ""
    if target.kind is TargetKind.USER:
        return f" → {user_mention(target.id)}"
    if target.kind is TargetKind.ROLE:
        return f" → {role_mention(target.id)}"
    if target.kind is TargetKind.CHANNEL:
        return f" → {channel_mention(target.id)}"
    if target.kind is TargetKind.CASE:
        return f" → case {target.id}"
    return f" → {target.kind.value} {target.id}"


def entry_line(entry: AuditEntry) -> str:
    result = "" if entry.result is AuditResult.OK else f" · **{entry.result.value}**"
    return (
        f"{ts(entry.created_at, 'f')} · {user_mention(entry.actor_id)} · "
        f"`{entry.action}`{_target_text(entry.target)}{result}"
    )


def audit_embed(entries: list[AuditEntry], *, actor_id: int | None = None) -> discord.Embed:
    """Newest first, cut to what fits in one embed (with a note of how many were left out)."""
    who = f" by {user_mention(actor_id)}" if actor_id else ""
    embed = discord.Embed(title="Recent facilitator and admin actions", colour=CALM)
    if not entries:
        embed.description = f"Nothing recorded yet{who}."
        return embed
    lines: list[str] = [f"Newest first{who}:"] if who else []
    size = sum(len(line) + 1 for line in lines)
    for shown, entry in enumerate(entries):
        line = entry_line(entry)
        more = f"…and {len(entries) - shown} more. Ask for a smaller `count` to see them."
        if size + len(line) + 1 + len(more) > EMBED_LIMIT:
            lines.append(more)
            break
        lines.append(line)
        size += len(line) + 1
    embed.description = "\n".join(lines)
    embed.set_footer(text="Ids only: reasons and details are in the mod log and case records.")
    return embed
