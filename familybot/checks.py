"""Runtime role checks for app commands and buttons (buttons: see familybot.tree.guarded)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

from familybot.i18n import lazy_gettext
from familybot.models.setup import Actor

T = TypeVar("T")

NOT_A_FACILITATOR = lazy_gettext(
    "Only facilitators can do that. If you think you should be able to, ask an admin."
)
NOT_AN_ADMIN = lazy_gettext("Only server admins (with the Manage Server permission) can do that.")

# Marks set on command callbacks so the tree walk test can prove every guarded command is.
FACILITATOR_MARK = "__familybot_requires__"


def actor_of(interaction: discord.Interaction[Any]) -> Actor:
    user = interaction.user
    perms = interaction.permissions
    # A guild interaction carries a Member with roles; in DMs there are none.
    role_ids = frozenset(r.id for r in getattr(user, "roles", ()))
    return Actor(
        user_id=user.id,
        role_ids=role_ids,
        manage_guild=perms.manage_guild,
        administrator=perms.administrator,
    )


async def member_is_facilitator(interaction: discord.Interaction[Any]) -> bool:
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    services = interaction.client.services
    result: bool = await services.setup.is_facilitator(interaction.guild_id, actor_of(interaction))
    return result


class CheckError(app_commands.CheckFailure):
    """A check could not decide (its cause: the database is down, ...). discord.py hands
    only AppCommandErrors to the tree's error handler; anything else raised by a check
    escapes it, and the person gets no reply at all. The tree reports the cause."""


def is_facilitator() -> Callable[[T], T]:
    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        try:
            allowed = await member_is_facilitator(interaction)
        except app_commands.AppCommandError:
            raise
        except Exception as exc:
            raise CheckError() from exc
        if not allowed:
            raise app_commands.CheckFailure(str(NOT_A_FACILITATOR))
        return True

    def decorator(func: T) -> T:
        setattr(func, FACILITATOR_MARK, "facilitator")
        return app_commands.check(predicate)(func)

    return decorator


def is_admin() -> Callable[[T], T]:
    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        if interaction.guild_id is None:
            raise app_commands.NoPrivateMessage()
        if not actor_of(interaction).is_admin:
            raise app_commands.CheckFailure(str(NOT_AN_ADMIN))
        return True

    def decorator(func: T) -> T:
        setattr(func, FACILITATOR_MARK, "admin")
        return app_commands.check(predicate)(func)

    return decorator
