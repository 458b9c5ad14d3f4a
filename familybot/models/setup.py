"""Who is acting: a person's id, roles and server permissions, as checks and services see them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who is acting, as far as the rules care: ids and a few permission bits."""

    user_id: int
    role_ids: frozenset[int]
    manage_guild: bool
    administrator: bool = False

    @property
    def is_admin(self) -> bool:
        return self.manage_guild or self.administrator
