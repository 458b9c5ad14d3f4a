"""The `/setup audit` embed: the audit log's entries, newest first (ids only).

Recording entries is not rendering: it lives with the tree's wrapper (familybot.tree_audit)."""

from __future__ import annotations

import discord

from familybot.i18n import _, ngettext, pgettext
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
        return " → " + _("case {id}").format(id=target.id)
    return f" → {target.kind.value} {target.id}"


def _result(result: AuditResult) -> str:
    names = {
        "refused": pgettext("content:audit-result", "refused"),
        "failed": pgettext("content:audit-result", "failed"),
    }
    return names.get(result.value, result.value)


def entry_line(entry: AuditEntry) -> str:
    result = "" if entry.result is AuditResult.OK else f" · **{_result(entry.result)}**"
    return (
        f"{ts(entry.created_at, 'f')} · {user_mention(entry.actor_id)} · "
        f"`{entry.action}`{_target_text(entry.target)}{result}"
    )


def audit_embed(entries: list[AuditEntry], *, actor_id: int | None = None) -> discord.Embed:
    """Newest first, cut to what fits in one embed (with a note of how many were left out)."""
    title = pgettext("embed-title", "Recent facilitator and admin actions")
    embed = discord.Embed(title=title, colour=CALM)
    member = user_mention(actor_id) if actor_id else ""
    if not entries:
        embed.description = (
            _("Nothing recorded yet by {member}.").format(member=member)
            if actor_id
            else _("Nothing recorded yet.")
        )
        return embed
    lines: list[str] = [_("Newest first, by {member}:").format(member=member)] if actor_id else []
    size = sum(len(line) + 1 for line in lines)
    for shown, entry in enumerate(entries):
        line = entry_line(entry)
        left = len(entries) - shown
        more = ngettext(
            "…and {count} more. Ask for a smaller `count` to see them.",
            "…and {count} more. Ask for a smaller `count` to see them.",
            left,
        ).format(count=left)
        if size + len(line) + 1 + len(more) > EMBED_LIMIT:
            lines.append(more)
            break
        lines.append(line)
        size += len(line) + 1
    embed.description = "\n".join(lines)
    embed.set_footer(
        text=pgettext(
            "embed-footer", "Ids only: reasons and details are in the mod log and case records."
        )
    )
    return embed
