"""Hostile text and links: no ping possible, no Discord limit exceeded, only safe URLs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from familybot.db.connection import Database
from familybot.models import Resource, ResourceStatus
from familybot.models.setup import Actor
from familybot.services.resources.linkcheck import check_links
from familybot.services.resources.netguard import AddressPolicy
from familybot.services.resources.urls import URL_MAX, InvalidURL, validate_url
from familybot.ui.resources import (
    inert,
    resource_embed,
    resource_list_embed,
    review_embed,
)
from familybot.wiring import Services

HOSTILE = [
    "@everyone",
    "@here",
    "<@&123456789012345678>",
    "<@123456789012345678>",
    "<@!123456789012345678>",
    "[click me](https://evil.example/)",
    "\u200b",
    "\u200d",
    "\u202e",
    "\u2066",
    "\ufeff",
    "**",
    "`",
    "\n",
    " ",
    "é",
    "🙂",
]
hostile_text = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40)), max_size=60).map(
    "".join
) | st.just("word " * 2000 + "@everyone")


def make(title: str, description: str, category: str, extra: str) -> Resource:
    return Resource(
        id=1,
        guild_id=1,
        title=title,
        url=validate_url("https://example.org/a/@everyone/<@&1>"),
        category=category,
        description=description,
        region=extra,
        language=extra,
        audience=extra,
        status=ResourceStatus.APPROVED,
        suggested_by=5,
        suggested_at=datetime(2026, 1, 1, tzinfo=UTC),
        vetted_by=6,
        vetted_at=datetime(2026, 1, 2, tzinfo=UTC),
        review_due_at=datetime(2027, 1, 2, tzinfo=UTC),
        decision_reason=None,
    )


LIVE_MENTION = re.compile(r"<(@[!&]?|#)\d")


def assert_safe(embed: object) -> None:
    import discord

    assert isinstance(embed, discord.Embed)
    assert len(embed) <= 6000
    assert len(embed.title or "") <= 256
    assert len(embed.description or "") <= 4096
    assert len(embed.fields) <= 25
    for f in embed.fields:
        assert 1 <= len(f.name or "") <= 256 and 1 <= len(f.value or "") <= 1024
    assert len(embed.footer.text or "") <= 2048
    texts = [embed.title or "", embed.description or "", embed.footer.text or ""]
    texts += [f"{f.name} {f.value}" for f in embed.fields]
    for text in texts:
        assert "@everyone" not in text and "@here" not in text
        assert "<@&" not in text and "<@!" not in text
        assert "\u202e" not in text and "\u2066" not in text
    # Only the review card names someone (the suggester, ephemerally, to facilitators).


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(hostile_text, hostile_text, hostile_text, hostile_text)
def test_formatters_with_hostile_text(title: str, desc: str, cat: str, extra: str) -> None:
    r = make(title, desc, cat, extra)
    for embed in (
        resource_embed(r),
        resource_list_embed([r] * 20, title, "none"),
        resource_list_embed([r] * 20, title, "none", numbered=True),
    ):
        assert_safe(embed)
        # No mention syntax survives: "<@", "<@!", "<@&" or "<#" followed by an id. (A bare
        # "<@" with no id after it mentions nobody; hypothesis once found one in a field.)
        assert not LIVE_MENTION.search(json.dumps(embed.to_dict(), ensure_ascii=False))
    review = review_embed(r, 3)
    assert_safe(review)


def test_inert_defuses_every_masked_link_not_only_the_first() -> None:
    """discord.py's escape_markdown escapes only the first of two masked links."""
    out = inert("[d](https://evil.example) and [e](https://evil.example)")
    assert out == "\\[d](https://evil.example) and \\[e](https://evil.example)"


@settings(max_examples=100, deadline=None)
@given(hostile_text)
def test_inert_removes_masked_links_and_hidden_characters(text: str) -> None:
    out = inert(text)
    # A masked link needs "[text](url)": every "[" must be escaped, i.e. follow an odd run of
    # backslashes. (The old check looked for "](" and failed on "'](", which links nothing.)
    assert all(len(m[1]) % 2 == 1 for m in re.finditer(r"(\\*)\[", out)), out
    assert not any(ch in out for ch in "\u200d\u202e\u2066\ufeff")


url_parts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@settings(max_examples=400, deadline=None)
@given(st.one_of(url_parts, st.builds(lambda a, b: f"https://{a}/{b}", url_parts, url_parts)))
def test_url_validator_accepts_only_safe_links(raw: str) -> None:
    try:
        url = validate_url(raw)
    except InvalidURL:
        return
    assert len(url) <= URL_MAX
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.hostname
    assert parts.username is None and parts.password is None
    assert url.isascii() and url.isprintable() and " " not in url and "\\" not in url
    assert "." in parts.hostname
    assert validate_url(url) == url  # normalising twice changes nothing


@pytest.mark.parametrize(
    "raw",
    [
        "javascript:alert(1)",
        "data:text/html,hi",
        "JAVASCRIPT://example.com/%0aalert(1)",
        "http://example.com/",
        "https://user:pw@example.com/",
        "https://user@example.com/",
        "https://exa mple.com/",
        "https://example.com/a b",
        "https://example.com\\@evil.com/",
        "https://example.com/\u202e",
        "https://example.com/\u200b",
        "https://localhost/",
        "https://127.0.0.1/",
        "https://[::1]/",
        "https://0x7f.1/",
        "https://intranet/",
        "https:///path",
        "https://",
        "ftp://example.com/",
        "https://example.com:99999/",
        "https://example.org:8443/x",
        "https://printer.local/",
        "https://" + "a" * 600 + ".com/",
        "https://example.com/" + "a" * 600,
        "",
    ],
)
def test_url_validator_rejects(raw: str) -> None:
    with pytest.raises(InvalidURL):
        validate_url(raw)


def test_url_validator_normalises() -> None:
    assert validate_url("  HTTPS://Example.ORG  ") == "https://example.org/"
    assert validate_url("https://bücher.example/ä?q=ü") == (
        "https://xn--bcher-kva.example/%C3%A4?q=%C3%BC"
    )
    assert validate_url("http://example.org/x", allow_http=True) == "http://example.org/x"
    assert validate_url("https://example.org:443/x#top") == "https://example.org:443/x#top"


# --- the link checker against a local HTTP server ----------------------------------------------
async def start_server(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


async def test_check_links_head_get_fallback_timeouts_and_concurrency() -> None:
    in_flight = 0
    peak = 0

    async def ok(request: web.Request) -> web.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        import asyncio

        await asyncio.sleep(0.02)
        in_flight -= 1
        return web.Response(text="ok")

    async def head_refused(request: web.Request) -> web.Response:
        return web.Response(status=405 if request.method == "HEAD" else 200)

    async def slow(request: web.Request) -> web.Response:
        import asyncio

        await asyncio.sleep(2)
        return web.Response(text="late")

    app = web.Application()
    app.router.add_route("*", "/ok/{n}", ok)
    app.router.add_route("*", "/head-refused", head_refused)
    app.router.add_route("*", "/slow", slow)

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/ok/0")

    app.router.add_route("*", "/redirect", redirect)
    runner, base = await start_server(app)
    try:
        items = [(i, f"{base}/ok/{i}") for i in range(12)]
        items += [
            (100, f"{base}/head-refused"),
            (101, f"{base}/missing"),
            (102, f"{base}/slow"),
            (103, f"{base}/redirect"),
            (104, "http://127.0.0.1:1/closed"),
        ]
        # The local server is the one address this test's policy treats as public (netguard).
        port = int(base.rsplit(":", 1)[1])
        policy = AddressPolicy(trusted=frozenset({("127.0.0.1", port)}))
        results = await check_links(items, seconds=0.3, concurrency=3, policy=policy)
    finally:
        await runner.cleanup()
    assert all(results[i] for i in range(12))
    assert results[100] and results[103]
    assert not results[101] and not results[102] and not results[104]
    assert peak <= 3


async def test_three_failed_checks_flag_for_review(services: Services, db: Database) -> None:
    await services.setup.set_facilitator_role(1, 77)
    admin = Actor(user_id=1, role_ids=frozenset(), manage_guild=True, administrator=False)
    r = await services.resources.add(
        1,
        admin,
        {"title": "T", "url": "https://example.org/", "category": "C", "description": "D"},
    )
    app = web.Application()
    runner, base = await start_server(app)  # every path is a 404
    try:
        await db.execute("UPDATE resources SET url = ? WHERE id = ?", (f"{base}/gone", r.id))
        checker = services.link_checker
        checker.timeout = 1
        checker.policy = AddressPolicy(trusted=frozenset({("127.0.0.1", runner.addresses[0][1])}))
        for expected_flagged in ([], [], [r.id], []):
            report = await checker.run()
            assert report.flagged == expected_flagged
    finally:
        await runner.cleanup()
    row = await db.fetchone("SELECT link_failures, flagged_at FROM resources WHERE id = ?", (r.id,))
    assert row is not None and row["link_failures"] == 4 and row["flagged_at"] is not None
    due = await services.resources.post_review_digest()
    assert due == 0  # no alerts channel set: nothing posted, nothing lost
    await services.setup.set_alerts_channel(1, 900)
    assert await services.resources.post_review_digest() == 1
