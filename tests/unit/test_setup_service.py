from __future__ import annotations

import pytest

from familybot.errors import UserFacingError
from familybot.models.setup import Actor
from familybot.wiring import Services


async def test_facilitator_rule(services: Services) -> None:
    member = Actor(user_id=1, role_ids=frozenset({50}), manage_guild=False)
    admin = Actor(user_id=2, role_ids=frozenset(), manage_guild=True)
    assert not await services.setup.is_facilitator(9, member)
    assert await services.setup.is_facilitator(9, admin)
    await services.setup.set_facilitator_role(9, 50)
    assert await services.setup.is_facilitator(9, member)
    assert not await services.setup.is_facilitator(10, member)


async def test_timezone(services: Services) -> None:
    assert await services.setup.timezone_for(9) == "America/New_York"
    await services.setup.set_timezone(9, "Europe/London")
    assert await services.setup.timezone_for(9) == "Europe/London"
    with pytest.raises(UserFacingError, match="don't know the time zone"):
        await services.setup.set_timezone(9, "Narnia/Cair_Paravel")
    assert await services.setup.timezone_for(9) == "Europe/London"
