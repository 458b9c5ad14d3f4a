"""Runtime role checks for app commands and buttons."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

from familybot.services.setup import Actor
from familybot.tree import NOT_A_FACILITATOR, NOT_AN_ADMIN, send_private

T = TypeVar("T")

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


async def refuse_unless_facilitator(interaction: discord.Interaction[Any]) -> bool:
    """For buttons and menus (which have no app-command checks): tell a non-facilitator
    kindly and privately, and return True so the caller stops there."""
    if await member_is_facilitator(interaction):
        return False
    await send_private(interaction, NOT_A_FACILITATOR)
    return True


def is_facilitator() -> Callable[[T], T]:
    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        if not await member_is_facilitator(interaction):
            raise app_commands.CheckFailure(NOT_A_FACILITATOR)
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
            raise app_commands.CheckFailure(NOT_AN_ADMIN)
        return True

    def decorator(func: T) -> T:
        setattr(func, FACILITATOR_MARK, "admin")
        return app_commands.check(predicate)(func)

    return decorator
