"""A server with people in it, and the real FamilyBot connected to the fake Discord."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from familybot.bot import FamilyBot
from familybot.clock import Clock
from familybot.config import load_settings
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_discord_state import VIEW_CHANNEL

MANAGE_GUILD = 1 << 5


@dataclass
class World:
    fake: FakeDiscord
    tmp: Path
    guild_id: int = 0
    owner: int = 0
    admin: int = 0
    facilitator: int = 0
    alice: int = 0
    bob: int = 0
    carol: int = 0
    facilitator_role: int = 0
    alerts_channel: int = 0
    modlog_channel: int = 0
    bot: FamilyBot | None = None
    clock: Clock | None = None
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    @property
    def db_path(self) -> Path:
        return self.tmp / "familybot.db"

    def populate(self) -> None:
        fake = self.fake
        self.owner = fake.add_user(name="owner")
        self.guild_id = fake.add_guild("Family Support", owner_id=self.owner)
        self.facilitator_role = fake.add_role(self.guild_id, "Facilitator")
        self.admin = fake.add_member(self.guild_id, name="admin", permissions=MANAGE_GUILD)
        self.facilitator = fake.add_member(self.guild_id, name="fac", roles=[self.facilitator_role])
        self.alice = fake.add_member(self.guild_id, name="alice")
        self.bob = fake.add_member(self.guild_id, name="bob")
        self.carol = fake.add_member(self.guild_id, name="carol")
        private = [
            {"id": self.guild_id, "type": 0, "allow": 0, "deny": VIEW_CHANNEL},
            {"id": self.facilitator_role, "type": 0, "allow": VIEW_CHANNEL, "deny": 0},
            {"id": fake.bot_user_id, "type": 1, "allow": VIEW_CHANNEL, "deny": 0},
        ]
        self.alerts_channel = fake.add_text_channel(
            self.guild_id, "facilitator-alerts", permission_overwrites=private
        )
        self.modlog_channel = fake.add_text_channel(
            self.guild_id, "mod-log", permission_overwrites=private
        )

    async def start_bot(self, **env: str) -> FamilyBot:
        settings = load_settings(
            self.tmp / "none.env",
            environ={
                "DISCORD_TOKEN": self.fake.token,
                "DATABASE_PATH": str(self.db_path),
                "DEV_GUILD_ID": str(self.guild_id),
                "DEFAULT_TIMEZONE": "America/New_York",
                **env,
            },
        )
        bot = FamilyBot(settings, clock=self.clock)
        await self._stack.enter_async_context(self.fake.running(bot))
        self.bot = bot
        return bot

    async def stop_bot(self) -> None:
        await self._stack.aclose()
        self._stack = contextlib.AsyncExitStack()
        self.bot = None

    async def restart(self) -> FamilyBot:
        await self.stop_bot()
        return await self.start_bot()

    async def configure(self) -> None:
        """Run /setup as the admin: facilitator role and alerts channel."""
        h = await self.fake.slash(
            self.guild_id,
            self.admin,
            "setup",
            "facilitator-role",
            options={"role": self.facilitator_role},
        )
        await h.wait_response()
        h = await self.fake.slash(
            self.guild_id, self.admin, "setup", "alerts", options={"channel": self.alerts_channel}
        )
        await h.wait_response()

    # --- conveniences --------------------------------------------------------------------------
    async def run(self, user: int, *names: str, **options: Any) -> Any:
        options = {k.replace("_", "-"): v for k, v in options.items()}
        handle = await self.fake.slash(self.guild_id, user, *names, options=options or None)
        await handle.wait_response()
        return handle

    async def run_to_end(self, user: int, *names: str, **options: Any) -> Any:
        """For deferred commands: wait for the followup after the deferral."""
        handle = await self.run(user, *names, **options)
        if handle.response_type == 5:
            await handle.wait_for("followup")
        return handle


async def eventually(check: Callable[[], Any], timeout: float = 3.0) -> Any:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def text_of(body: Any) -> str:
    """Everything a person would read in a message body: content, embeds, buttons."""
    if not isinstance(body, dict):
        return ""
    data = body.get("data", body) if "type" in body and "data" in body else body
    if not isinstance(data, dict):
        return ""
    parts = [str(data.get("content") or "")]
    for embed in data.get("embeds") or []:
        parts += [str(embed.get("title") or ""), str(embed.get("description") or "")]
        for f in embed.get("fields") or []:
            parts += [str(f.get("name")), str(f.get("value"))]
        footer = embed.get("footer") or {}
        parts.append(str(footer.get("text") or ""))
    for row in data.get("components") or []:
        for c in row.get("components") or []:
            parts.append(str(c.get("label") or ""))
    return "\n".join(p for p in parts if p)


def custom_ids(body: Any) -> list[str]:
    data = body.get("data", body) if isinstance(body, dict) else {}
    ids = []
    for row in (data or {}).get("components") or []:
        for c in row.get("components") or []:
            if c.get("custom_id"):
                ids.append(c["custom_id"])
    return ids


def public_channel_posts(world: World) -> list[tuple[int, Any]]:
    """Bodies the bot posted into guild channels a plain member can see."""
    out = []
    everyone_probe = world.carol
    for r in world.fake.requests_to("POST", r"/channels/\d+/messages"):
        cid = int(r.path.split("/")[2])
        channel = world.fake.channel(cid)
        if "guild_id" not in channel:
            continue
        if world.fake.permissions_in(cid, everyone_probe) & VIEW_CHANNEL:
            out.append((cid, r.json_body))
    return out
