"""The audit log: who did which facilitator or admin action, to what, and how it ended.

Recording is best effort on purpose: an audit write that fails is logged (ids only) and
the action itself goes on, because a member's ban or a join approval must not fail just
because its record could not be written.
"""

from __future__ import annotations

import logging
from typing import Any

from familybot.clock import Clock
from familybot.db.repositories.audit import AuditRepository
from familybot.db.repositories.groups import GroupRepository
from familybot.models.audit import AuditEntry, AuditResult, AuditTarget, TargetKind

log = logging.getLogger(__name__)

AUDIT_SHOW_DEFAULT = 20
AUDIT_SHOW_MAX = 50
# Targets that are places people belong to (see record()).
_PLACES = frozenset({TargetKind.GROUP, TargetKind.SESSION, TargetKind.CHANNEL})
# Actions inside one group: "group.remove target=user:X" by a facilitator who runs one group
# says who was in it, so these too are logged at INFO without actor or person.
_GROUP_ACTIONS = ("group.", "session.", "button.join-", "select.attendance")


class AuditService:
    def __init__(self, repo: AuditRepository, groups: GroupRepository, clock: Clock) -> None:
        self._repo = repo
        self._groups = groups
        self._clock = clock

    async def record(
        self,
        guild_id: int,
        actor_id: int,
        action: str,
        target: AuditTarget | None,
        result: AuditResult,
    ) -> bool:
        """Append one entry; False (and a log line) when it could not be stored. Never raises."""
        try:
            await self._repo.add(guild_id, actor_id, action, target, result, self._clock.now())
        except Exception as exc:
            log.error(
                "audit record failed guild=%d actor=%d action=%s error=%s",
                guild_id,
                actor_id,
                action,
                type(exc).__name__,
            )
            return False
        shown = f"{target.kind.value}:{target.id}" if target else "-"
        if (target is not None and target.kind in _PLACES) or action.startswith(_GROUP_ACTIONS):
            # Someone's id next to a group, session or channel would say who is in it (or
            # runs it): the line at INFO names the place only; the stored entry has both.
            log.info(
                "audit action=%s guild=%d target=%s result=%s",
                action,
                guild_id,
                shown if target is not None and target.kind in _PLACES else "-",
                result.value,
            )
            log.debug("audit action=%s actor=%d target=%s", action, actor_id, shown)
            return True
        log.info(
            "audit action=%s guild=%d actor=%d target=%s result=%s",
            action,
            guild_id,
            actor_id,
            shown,
            result.value,
        )
        return True

    async def recent(
        self, guild_id: int, count: int = AUDIT_SHOW_DEFAULT, actor_id: int | None = None
    ) -> list[AuditEntry]:
        limit = max(1, min(count, AUDIT_SHOW_MAX))
        return await self._repo.recent(guild_id, limit, actor_id=actor_id)

    async def group_target(self, guild_id: int, name: str) -> AuditTarget | None:
        """The group a command named, by id: the active one, else the one just archived."""
        try:
            group = await self._groups.find_active(guild_id, name)
            if group is None:
                group = await self._groups.find_latest_archived(guild_id, name)
        except Exception:  # the target is a nicety; the entry is still worth writing
            log.warning("audit could not resolve group guild=%d", guild_id)
            return None
        return AuditTarget(group.id, TargetKind.GROUP) if group else None

    async def export_user_data(self, user_id: int) -> list[dict[str, Any]]:
        """Entries where the person acted or was acted on. There is no delete: the log is
        append-only and, like moderation cases, kept as the server's record."""
        return [
            {
                "guild_id": e.guild_id,
                "actor_id": e.actor_id,
                "action": e.action,
                "target_id": e.target.id if e.target else None,
                "target_kind": e.target.kind.value if e.target else None,
                "result": e.result.value,
                "created_at": e.created_at.isoformat(),
            }
            for e in await self._repo.about_user(user_id)
        ]
