"""Users: the bot, the app owner and everyone tests add; /users routes."""

from __future__ import annotations

from .common import JSON
from .errors import unknown
from .routing import Req, RouteSpec
from .store import FakeState


class UsersMixin(FakeState):
    def __init__(self, *, bot_name: str = "FamilyBot") -> None:
        super().__init__(bot_name=bot_name)
        self.add_user(self.bot_user_id, name=bot_name, bot=True)
        self.add_user(self.owner_user_id, name="app-owner")

    def route_table(self) -> list[RouteSpec]:
        return [
            *super().route_table(),
            ("GET", "/users/@me", self._get_me),  # before /users/{user_id}, which matches it too
            ("GET", "/users/{user_id}", self._get_user),
        ]

    def add_user(
        self, user_id: int | None = None, *, name: str | None = None, bot: bool = False
    ) -> int:
        uid = user_id if user_id is not None else self.next_id()
        uname = name or f"user{uid % 100000}"
        self.users[uid] = {
            "id": str(uid),
            "username": uname,
            "discriminator": "0",
            "global_name": uname,
            "avatar": None,
            "bot": bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "collectibles": None,
            "primary_guild": None,
        }
        return uid

    def user_payload(self, user_id: int) -> JSON:
        if user_id not in self.users:
            self.add_user(user_id)
        return dict(self.users[user_id])

    def bot_user_payload(self) -> JSON:
        """The bot as it sees itself (READY, GET /users/@me)."""
        return {**self.user_payload(self.bot_user_id), "verified": True, "mfa_enabled": False}

    def close_dms(self, user_id: int) -> None:
        """DMs to this user fail with 403 / 50007 from now on."""
        self.closed_dm_users.add(user_id)

    def open_dms(self, user_id: int) -> None:
        self.closed_dm_users.discard(user_id)

    # routes -------------------------------------------------------------------------------
    async def _get_me(self, req: Req) -> JSON:
        return {**self.bot_user_payload(), "email": None, "locale": "en-US", "bio": ""}

    async def _get_user(self, req: Req) -> JSON:
        uid = req.int_param("user_id")
        if uid not in self.users:
            raise unknown("User", 10013)
        return self.user_payload(uid)
