"""Checks that approved resources' links still work; repeated failures flag them for review.

Every request goes through ``familybot.services.resources.netguard``: a link (and each redirect it leads
to, followed here one hop at a time) may only reach a public address on port 80 or 443. A link
the guard refuses is never fetched and counts as a failed check.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from familybot.clock import Clock
from familybot.db.repositories.resources import ResourceRepository
from familybot.services.resources.netguard import (
    MAX_REDIRECTS,
    STRICT,
    AddressPolicy,
    AddressRefused,
    guarded_connector,
)

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
CONCURRENCY = 8
FLAG_AFTER = 3  # consecutive failed checks before a resource is due for re-review
USER_AGENT = "FamilyBot-LinkCheck/1.0 (+resource library upkeep)"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class Outcome(enum.Enum):
    WORKS = "works"
    BROKEN = "broken"  # an error status, no answer, too many redirects
    REFUSED = "refused"  # the guard refused it (or a redirect): never fetched


@dataclass(frozen=True)
class LinkCheckReport:
    checked: int
    failed: int
    flagged: list[int]
    refused: int = 0


def _refused_by_guard(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, AddressRefused) or isinstance(
            getattr(seen, "os_error", None), AddressRefused
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def _follow(
    session: aiohttp.ClientSession, url: str, method: str, policy: AddressPolicy
) -> Outcome:
    """One method, redirects followed by hand: every hop is checked before it is requested."""
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        if policy.url_refusal(current) is not None:
            return Outcome.REFUSED
        try:
            async with session.request(
                method, URL(current, encoded=True), allow_redirects=False
            ) as response:
                if response.status in _REDIRECTS:
                    location = response.headers.get("Location", "")
                    if not location:
                        return Outcome.BROKEN
                    try:
                        current = str(response.url.join(URL(location)))
                    except ValueError:
                        return Outcome.BROKEN
                    continue
                return Outcome.WORKS if response.status < 400 else Outcome.BROKEN
        except (aiohttp.ClientError, OSError, ValueError) as error:
            return Outcome.REFUSED if _refused_by_guard(error) else Outcome.BROKEN
    return Outcome.BROKEN  # more than MAX_REDIRECTS redirects


async def probe(
    session: aiohttp.ClientSession,
    url: str,
    seconds: float = TIMEOUT_SECONDS,
    policy: AddressPolicy = STRICT,
) -> Outcome:
    """HEAD first (cheap); some servers refuse HEAD, so fall back to GET unless refused."""
    outcome = Outcome.BROKEN
    for method in ("HEAD", "GET"):
        try:
            async with asyncio.timeout(seconds):
                outcome = await _follow(session, url, method, policy)
        except TimeoutError:
            outcome = Outcome.BROKEN
        if outcome is not Outcome.BROKEN:
            return outcome
    return outcome


async def link_works(
    session: aiohttp.ClientSession,
    url: str,
    seconds: float = TIMEOUT_SECONDS,
    policy: AddressPolicy = STRICT,
) -> bool:
    return await probe(session, url, seconds, policy) is Outcome.WORKS


def guarded_session(
    policy: AddressPolicy = STRICT,
    resolver: AbstractResolver | None = None,
    concurrency: int = CONCURRENCY,
) -> aiohttp.ClientSession:
    """A session that can only reach what ``policy`` allows; never reads proxies from the env."""
    return aiohttp.ClientSession(
        connector=guarded_connector(policy, resolver, limit=concurrency),
        headers={"User-Agent": USER_AGENT},
        trust_env=False,
    )


async def probe_links(
    items: Sequence[tuple[int, str]],
    *,
    seconds: float = TIMEOUT_SECONDS,
    concurrency: int = CONCURRENCY,
    policy: AddressPolicy = STRICT,
    resolver: AbstractResolver | None = None,
) -> dict[int, Outcome]:
    """Check each (id, url) with at most `concurrency` requests in flight."""
    gate = asyncio.Semaphore(concurrency)
    results: dict[int, Outcome] = {}
    async with guarded_session(policy, resolver, concurrency) as session:

        async def one(resource_id: int, url: str) -> None:
            async with gate:
                results[resource_id] = await probe(session, url, seconds, policy)

        await asyncio.gather(*(one(i, u) for i, u in items))
    return results


async def check_links(
    items: Sequence[tuple[int, str]],
    *,
    seconds: float = TIMEOUT_SECONDS,
    concurrency: int = CONCURRENCY,
    policy: AddressPolicy = STRICT,
    resolver: AbstractResolver | None = None,
) -> dict[int, bool]:
    """Like probe_links, True only for links that work (refused links count as failed)."""
    outcomes = await probe_links(
        items, seconds=seconds, concurrency=concurrency, policy=policy, resolver=resolver
    )
    return {i: o is Outcome.WORKS for i, o in outcomes.items()}


class LinkChecker:
    def __init__(self, repo: ResourceRepository, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock
        self.timeout = TIMEOUT_SECONDS
        self.concurrency = CONCURRENCY
        self.flag_after = FLAG_AFTER
        # Production is STRICT with the system resolver; tests may swap these (see netguard).
        self.policy: AddressPolicy = STRICT
        self.resolver: AbstractResolver | None = None

    async def run(self) -> LinkCheckReport:
        """One pass over every approved resource. Scheduled by the bot as `link-check`."""
        items = await self._repo.approved_links()
        outcomes = await probe_links(
            items,
            seconds=self.timeout,
            concurrency=self.concurrency,
            policy=self.policy,
            resolver=self.resolver,
        )
        now = self._clock.now()
        flagged: list[int] = []
        for resource_id, outcome in outcomes.items():
            ok = outcome is Outcome.WORKS
            if await self._repo.record_link_result(resource_id, ok, now, self.flag_after):
                flagged.append(resource_id)
        failed = sum(1 for o in outcomes.values() if o is not Outcome.WORKS)
        refused = sum(1 for o in outcomes.values() if o is Outcome.REFUSED)
        log.info(
            "link check done checked=%d failed=%d refused=%d flagged=%d",
            len(items),
            failed,
            refused,
            len(flagged),
        )
        return LinkCheckReport(len(items), failed, flagged, refused)
