"""Checks that approved resources' links still work; repeated failures flag them for review."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

from familybot.clock import Clock
from familybot.db.repositories.resources import ResourceRepository

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
CONCURRENCY = 8
FLAG_AFTER = 3  # consecutive failed checks before a resource is due for re-review
USER_AGENT = "FamilyBot-LinkCheck/1.0 (+resource library upkeep)"


@dataclass(frozen=True)
class LinkCheckReport:
    checked: int
    failed: int
    flagged: list[int]


async def link_works(
    session: aiohttp.ClientSession, url: str, seconds: float = TIMEOUT_SECONDS
) -> bool:
    """HEAD first (cheap); some servers refuse HEAD, so fall back to GET on any failure."""
    limit = aiohttp.ClientTimeout(total=seconds)
    for method in ("HEAD", "GET"):
        try:
            async with session.request(
                method, url, timeout=limit, allow_redirects=True, max_redirects=5
            ) as response:
                if response.status < 400:
                    return True
        except (aiohttp.ClientError, TimeoutError, ValueError):
            continue
    return False


async def check_links(
    items: Sequence[tuple[int, str]],
    *,
    seconds: float = TIMEOUT_SECONDS,
    concurrency: int = CONCURRENCY,
) -> dict[int, bool]:
    """Check each (id, url) with at most `concurrency` requests in flight."""
    gate = asyncio.Semaphore(concurrency)
    results: dict[int, bool] = {}
    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"User-Agent": USER_AGENT}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def one(resource_id: int, url: str) -> None:
            async with gate:
                results[resource_id] = await link_works(session, url, seconds)

        await asyncio.gather(*(one(i, u) for i, u in items))
    return results


class LinkChecker:
    def __init__(self, repo: ResourceRepository, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock
        self.timeout = TIMEOUT_SECONDS
        self.concurrency = CONCURRENCY
        self.flag_after = FLAG_AFTER

    async def run(self) -> LinkCheckReport:
        """One pass over every approved resource. Scheduled by the bot as `link-check`."""
        items = await self._repo.approved_links()
        results = await check_links(items, seconds=self.timeout, concurrency=self.concurrency)
        now = self._clock.now()
        flagged: list[int] = []
        for resource_id, ok in results.items():
            if await self._repo.record_link_result(resource_id, ok, now, self.flag_after):
                flagged.append(resource_id)
        failed = sum(1 for ok in results.values() if not ok)
        log.info(
            "link check done checked=%d failed=%d flagged=%d", len(items), failed, len(flagged)
        )
        return LinkCheckReport(len(items), failed, flagged)
