"""Application command options: the wrappers tests pass for users, roles, channels and
mentionables, and the interaction ``data`` (options, subcommands, resolved objects) built
against the command definitions the bot synced."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .applications import ApplicationsMixin
from .common import JSON
from .members import MembersMixin, without_user

# Application command option types
SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN = 1, 2, 3, 4, 5
USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 6, 7, 8, 9, 10, 11


@dataclass(frozen=True)
class UserOpt:
    """Explicit option wrapper: a user (or member) snowflake."""

    id: int


@dataclass(frozen=True)
class RoleOpt:
    id: int


@dataclass(frozen=True)
class ChannelOpt:
    id: int


@dataclass(frozen=True)
class MentionableOpt:
    id: int


_WRAPPER_TYPES: dict[type, int] = {
    UserOpt: USER,
    RoleOpt: ROLE,
    ChannelOpt: CHANNEL,
    MentionableOpt: MENTIONABLE,
    bool: BOOLEAN,  # before int: a bool is an int
    int: INTEGER,
    float: NUMBER,
}


def infer_type(value: Any) -> int:
    """The option type of a value given for an option the bot never synced."""
    return next((t for cls, t in _WRAPPER_TYPES.items() if isinstance(value, cls)), STRING)


class OptionsMixin(ApplicationsMixin, MembersMixin):
    def _resolve_value(
        self, guild_id: int, channel_id: int | None, otype: int, value: Any, resolved: JSON
    ) -> Any:
        if otype not in (USER, CHANNEL, ROLE, MENTIONABLE):
            if otype == INTEGER:
                return int(value)
            if otype == NUMBER:
                return float(value)
            return value
        sid = int(getattr(value, "id", value))
        g = self.guild(guild_id)
        if otype == MENTIONABLE:
            otype = ROLE if sid in g.roles else USER
        if otype == USER:
            resolved.setdefault("users", {})[str(sid)] = self.user_payload(sid)
            if sid in g.members:
                m = self.member_with_permissions(guild_id, sid, channel_id)
                resolved.setdefault("members", {})[str(sid)] = without_user(m)
        elif otype == ROLE:
            resolved.setdefault("roles", {})[str(sid)] = dict(self.role(guild_id, sid))
        elif otype == CHANNEL:
            ch = dict(self.channel(sid))
            ch["permissions"] = str(self.permissions_in(sid, self.bot_user_id))
            resolved.setdefault("channels", {})[str(sid)] = ch
        return str(sid)

    def _build_options(
        self,
        guild_id: int,
        channel_id: int | None,
        defs: list[JSON],
        options: dict[str, Any],
        resolved: JSON,
        focused: str | None = None,
    ) -> list[JSON]:
        by_name = {d["name"]: d for d in defs}
        out: list[JSON] = []
        for name, value in options.items():
            d = by_name.get(name)
            if d is None and defs:
                raise AssertionError(f"option {name!r} not in synced definition {list(by_name)}")
            otype = int(d["type"]) if d else infer_type(value)
            if focused == name:
                out.append({"name": name, "type": otype, "value": str(value), "focused": True})
                continue
            opt = {
                "name": name,
                "type": otype,
                "value": self._resolve_value(guild_id, channel_id, otype, value, resolved),
            }
            out.append(opt)
        return out

    def _command_data(
        self,
        guild_id: int,
        channel_id: int | None,
        names: tuple[str, ...],
        options: dict[str, Any] | None,
        focused: str | None = None,
    ) -> JSON:
        if not names or len(names) > 3:
            raise ValueError("give 1-3 names: command [group] [subcommand]")
        cmd = self.find_command(names[0], guild_id)
        resolved: JSON = {}
        defs: list[JSON] = (cmd or {}).get("options") or []
        chain: list[tuple[str, int]] = []
        for sub in names[1:]:
            d = next((o for o in defs if o["name"] == sub), None)
            if cmd is not None and d is None:
                raise AssertionError(f"/{' '.join(names)}: {sub!r} not in synced command")
            stype = (
                int(d["type"])
                if d
                else (SUB_COMMAND_GROUP if len(chain) + 2 < len(names) else SUB_COMMAND)
            )
            chain.append((sub, stype))
            defs = (d or {}).get("options") or []
        leaf = self._build_options(guild_id, channel_id, defs, options or {}, resolved, focused)
        for sub, stype in reversed(chain):
            leaf = [{"name": sub, "type": stype, "options": leaf}]
        data: JSON = {
            "id": cmd["id"] if cmd else str(self.next_id()),
            "name": names[0],
            "type": 1,
            "options": leaf,
        }
        if cmd and cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return data
