"""The link checker can't be steered at internal addresses (issue 10, item 2).

Two real aiohttp servers run on 127.0.0.1: a "public" one (the only socket address the test
policy trusts, reached through test names mapped by a stub resolver) and an "internal" one that
stands for everything the bot must never reach. Each counts the requests it receives: the
proof that a refused link was never fetched is that the internal server saw nothing.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from familybot.db.connection import Database
from familybot.models.setup import Actor
from familybot.services.resources.linkcheck import Outcome, guarded_session, probe_links
from familybot.services.resources.netguard import ALLOWED_PORTS, STRICT, AddressPolicy
from familybot.services.resources.urls import InvalidURL, validate_url
from familybot.wiring import Services

PUBLIC = "PUBLIC"  # stands for the public test server's (ip, port)
INTERNAL = "INTERNAL"  # stands for the internal server's (ip, port)

# Names the stub resolver answers. The public-looking ones point at internal addresses.
NAMES: dict[str, list[str]] = {
    "public.example.org": [PUBLIC],
    "www.public.example.org": [PUBLIC],
    "loopback.example.org": [INTERNAL],
    "127.0.0.1.nip.io": [INTERNAL],
    "mixed.example.org": [PUBLIC, INTERNAL],
    "metadata.example.org": ["169.254.169.254"],
    "ten.example.org": ["10.1.2.3"],
    "rfc1918.example.org": ["172.20.0.5"],
    "home-router.example.org": ["192.168.0.1"],
    "cgnat.example.org": ["100.64.1.1"],
    "zero.example.org": ["0.0.0.0"],
    "v6-loopback.example.org": ["::1"],
    "v6-mapped.example.org": ["::ffff:127.0.0.1"],
    "v6-ula.example.org": ["fd12:3456::1"],
    "v6-link-local.example.org": ["fe80::1"],
    "v6-nat64.example.org": ["64:ff9b::7f00:1"],
    "v6-6to4.example.org": ["2002:a00:1::1"],
    "multicast.example.org": ["239.1.2.3"],
}

# Hostile links that can be refused from their text alone: validate_url must refuse them at
# suggest/add/import time, and the checker must refuse them before any request.
HOSTILE_STATIC = [
    "http://127.0.0.1/",
    "http://127.1/",
    "http://2130706433/",
    "http://017700000001/",
    "http://0x7f000001/",
    "http://0x7f.0.0.1/",
    "http://0177.0.0.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::127.0.0.1]/",
    "http://0.0.0.0/",
    "http://0/",
    "http://[::]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://172.31.255.254/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://[fc00::1]/",
    "http://[fe80::1]/",
    "http://[ff02::1]/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "http://198.18.0.1/",
    "http://[2002:7f00:1::]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://１２７．０．０．１/",
    "https://public.example.org:22/",
    "https://public.example.org:6379/",
    "http://public.example.org:8080/",
    "http://public.example.org:0/",
    "http://public.example.org@127.0.0.1/",
    "http://user:pass@public.example.org/",
    "http://127.0.0.1#@public.example.org/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://admin.localhost/",
    "http://printer.local/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://router.lan/",
    "http://nas.home.arpa/",
    "http://1.0.0.127.in-addr.arpa/",
    "file:///etc/passwd",
    "gopher://public.example.org:6379/_INFO",
    "ftp://public.example.org/",
]

# Hostile links only resolution can expose: named hosts whose addresses are internal.
HOSTILE_RESOLVED = [
    "http://loopback.example.org/",
    "https://loopback.example.org/",
    "http://127.0.0.1.nip.io/",
    "http://mixed.example.org/",
    "http://metadata.example.org/latest/meta-data/",
    "http://ten.example.org/",
    "http://rfc1918.example.org/",
    "http://home-router.example.org/",
    "http://cgnat.example.org/",
    "http://zero.example.org/",
    "http://v6-loopback.example.org/",
    "http://v6-mapped.example.org/",
    "http://v6-ula.example.org/",
    "http://v6-link-local.example.org/",
    "http://v6-nat64.example.org/",
    "http://v6-6to4.example.org/",
    "http://multicast.example.org/",
]


@dataclass
class Server:
    port: int = 0
    hits: list[str] = field(default_factory=list)


class StubResolver(AbstractResolver):
    """Answers from NAMES only. PUBLIC / INTERNAL map to the local servers' real ports."""

    def __init__(self, public: Server, internal: Server) -> None:
        self.public = public
        self.internal = internal
        self.asked: list[str] = []
        self.override: dict[str, list[str]] = {}

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        targets = self.override.pop(host, None) or NAMES.get(host)
        if targets is None:
            raise OSError(f"unknown test name {host}")
        out: list[ResolveResult] = []
        for target in targets:
            ip, real_port = target, port
            if target == PUBLIC:
                ip, real_port = "127.0.0.1", self.public.port
            elif target == INTERNAL:
                ip, real_port = "127.0.0.1", self.internal.port
            fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
            out.append(
                {
                    "hostname": host,
                    "host": ip,
                    "port": real_port,
                    "family": fam,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            )
        return out

    async def close(self) -> None:
        return None


@dataclass
class Net:
    public: Server
    internal: Server
    resolver: StubResolver
    policy: AddressPolicy

    async def outcomes(self, *urls: str) -> dict[str, Outcome]:
        got = await probe_links(
            list(enumerate(urls)), seconds=2, policy=self.policy, resolver=self.resolver
        )
        return {url: got[i] for i, url in enumerate(urls)}


async def _start(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, int(runner.addresses[0][1])


@pytest.fixture
async def net() -> AsyncIterator[Net]:
    public, internal = Server(), Server()

    async def anything(request: web.Request) -> web.Response:
        internal.hits.append(f"{request.method} {request.path_qs}")
        return web.Response(text="internal secrets")

    async def public_handler(request: web.Request) -> web.StreamResponse:
        public.hits.append(f"{request.method} {request.path_qs}")
        path = request.path
        if path == "/ok":
            return web.Response(text="ok")
        if path == "/head-refused":
            return web.Response(status=405 if request.method == "HEAD" else 200)
        if path == "/redirect":
            raise web.HTTPFound(request.query["to"])
        if path.startswith("/chain/"):
            left = int(path.rsplit("/", 1)[1])
            raise web.HTTPFound("/ok" if left == 0 else f"/chain/{left - 1}")
        return web.Response(status=404)

    inside = web.Application()
    inside.router.add_route("*", "/{tail:.*}", anything)
    outside = web.Application()
    outside.router.add_route("*", "/{tail:.*}", public_handler)
    inside_runner, internal.port = await _start(inside)
    outside_runner, public.port = await _start(outside)
    # STRICT, except: the public server counts as public, and the two test ports are allowed
    # so that any refusal of the internal server is for its address, not its port.
    policy = AddressPolicy(
        trusted=frozenset({("127.0.0.1", public.port)}),
        ports=ALLOWED_PORTS | {public.port, internal.port},
    )
    try:
        yield Net(public, internal, StubResolver(public, internal), policy)
    finally:
        await outside_runner.cleanup()
        await inside_runner.cleanup()


def test_the_hostile_list_is_long_enough() -> None:
    assert len(HOSTILE_STATIC) + len(HOSTILE_RESOLVED) >= 60
    assert len(set(HOSTILE_STATIC + HOSTILE_RESOLVED)) == len(HOSTILE_STATIC + HOSTILE_RESOLVED)


@pytest.mark.parametrize("raw", HOSTILE_STATIC)
@pytest.mark.parametrize("allow_http", [False, True])
def test_statically_hostile_links_are_refused_at_suggest_time(raw: str, allow_http: bool) -> None:
    https_form = raw.replace("http://", "https://", 1)
    for candidate in {raw, https_form}:
        with pytest.raises(InvalidURL) as caught:
            validate_url(candidate, allow_http=allow_http)
        assert caught.value.message.startswith("That link can't be used: ")


def test_refusals_at_suggest_time_say_why_kindly() -> None:
    def reason(raw: str) -> str:
        with pytest.raises(InvalidURL) as caught:
            validate_url(raw)
        return caught.value.message

    assert "port 6379" in reason("https://example.org:6379/") and "80 and 443" in reason(
        "https://example.org:22/"
    )
    assert "private network" in reason("https://printer.local/")
    assert "private network" in reason("https://metadata.google.internal/")
    assert validate_url("https://example.org:443/x") == "https://example.org:443/x"
    assert validate_url("http://example.org:80/", allow_http=True) == "http://example.org:80/"


async def test_public_name_resolving_to_loopback_is_refused_and_never_contacted(
    net: Net,
) -> None:
    assert validate_url("https://loopback.example.org/") == "https://loopback.example.org/"
    got = await net.outcomes("http://loopback.example.org/", "http://127.0.0.1.nip.io/")
    assert set(got.values()) == {Outcome.REFUSED}
    assert "loopback.example.org" in net.resolver.asked  # it was refused after resolving
    assert net.internal.hits == []


async def test_a_legitimate_link_still_works(net: Net) -> None:
    got = await net.outcomes(
        "http://public.example.org/ok",
        "http://public.example.org/head-refused",
        "http://public.example.org/chain/4",  # 5 redirects: the cap
        "http://public.example.org/redirect?to=http://www.public.example.org/ok",
        "http://public.example.org/redirect?to=/ok",
        "http://public.example.org/missing",
        "http://public.example.org/chain/5",  # 6 redirects: too many
    )
    assert list(got.values()) == [Outcome.WORKS] * 5 + [Outcome.BROKEN] * 2
    assert "GET /head-refused" in net.public.hits and net.internal.hits == []


@pytest.mark.parametrize(
    "target",
    [
        "http://loopback.example.org/",
        "//loopback.example.org/secret",
        "http://127.0.0.1:{internal}/",
        "http://127.0.0.1/",
        "http://[::ffff:127.0.0.1]:{internal}/",
        "http://public.example.org@127.0.0.1:{internal}/",
        "http://metadata.example.org/latest/meta-data/",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
    ],
)
async def test_a_redirect_to_an_internal_address_is_refused(net: Net, target: str) -> None:
    to = target.format(internal=net.internal.port)
    url = str(aiohttp.client.URL("http://public.example.org/redirect").with_query(to=to))
    got = await net.outcomes(url)
    assert got[url] is Outcome.REFUSED
    assert len(net.public.hits) == 1 and net.public.hits[0].startswith("HEAD /redirect")
    assert net.internal.hits == []


async def test_every_hostile_link_is_refused_by_the_checker(net: Net) -> None:
    hostile = [*HOSTILE_STATIC, *HOSTILE_RESOLVED]
    got = await net.outcomes(*hostile)
    accepted = [url for url, outcome in got.items() if outcome is not Outcome.REFUSED]
    assert accepted == []
    assert net.internal.hits == [] and net.public.hits == []


async def test_rebinding_a_name_after_a_good_answer_is_still_refused(net: Net) -> None:
    """The address is checked on every connection, not remembered from an earlier check."""
    net.resolver.override["rebind.example.org"] = [PUBLIC]
    NAMES["rebind.example.org"] = [INTERNAL]
    try:
        first = await net.outcomes("http://rebind.example.org/ok")
        second = await net.outcomes("http://rebind.example.org/ok")
    finally:
        del NAMES["rebind.example.org"]
    assert first["http://rebind.example.org/ok"] is Outcome.WORKS
    assert second["http://rebind.example.org/ok"] is Outcome.REFUSED
    assert net.internal.hits == []


async def test_the_socket_is_refused_even_when_static_checks_are_bypassed(net: Net) -> None:
    """Numeric hosts skip the resolver; the guarded socket factory still refuses them."""
    async with guarded_session(net.policy, net.resolver) as session:
        with pytest.raises(aiohttp.ClientError):
            await session.get(f"http://127.0.0.1:{net.internal.port}/")
        with pytest.raises(aiohttp.ClientError):
            await session.get(f"http://[::ffff:127.0.0.1]:{net.internal.port}/")
        async with session.get(f"http://127.0.0.1:{net.public.port}/ok") as response:
            assert response.status == 200
    assert net.internal.hits == []


def test_the_strict_policy_refuses_every_internal_address_form() -> None:
    refused = [
        "127.0.0.1",
        "127.255.0.9",
        "0.0.0.0",
        "10.9.8.7",
        "172.16.0.1",
        "172.31.0.1",
        "192.168.10.1",
        "169.254.169.254",
        "100.64.0.1",
        "224.0.0.251",
        "255.255.255.255",
        "::",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::127.0.0.1",
        "fe80::1%1",
        "fc00::1",
        "fd00:ec2::254",
        "ff02::1",
        "2002:7f00:1::1",
        "2002:c0a8:101::1",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::1",
        "2001:db8::1",
        "2001::1",
    ]
    for ip in refused:
        assert STRICT.refusal(ip, 443) is not None, ip
    for ip in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "64:ff9b::5db8:d822"):
        assert STRICT.refusal(ip, 443) is None, ip
        assert STRICT.refusal(ip, 80) is None, ip
        assert STRICT.refusal(ip, 22) is not None and STRICT.refusal(ip, 6379) is not None


async def test_the_scheduled_check_counts_a_refused_link_as_failed(
    net: Net, services: Services, db: Database
) -> None:
    await services.setup.set_facilitator_role(1, 77)
    admin = Actor(user_id=1, role_ids=frozenset(), manage_guild=True, administrator=False)
    fields = {"category": "C", "description": "D"}
    good = await services.resources.add(
        1, admin, {"title": "Good", "url": "https://example.org/a", **fields}
    )
    bad = await services.resources.add(
        1, admin, {"title": "Bad", "url": "https://example.org/b", **fields}
    )
    await db.execute(
        "UPDATE resources SET url = ? WHERE id = ?", ("http://public.example.org/ok", good.id)
    )
    # A row stored before the rules existed, or a name that later moved to an internal address.
    await db.execute(
        "UPDATE resources SET url = ? WHERE id = ?", ("http://loopback.example.org/", bad.id)
    )
    checker = services.link_checker
    checker.policy, checker.resolver, checker.timeout = net.policy, net.resolver, 2
    report = await checker.run()
    assert (report.checked, report.failed, report.refused) == (2, 1, 1)
    rows = await db.fetchall("SELECT id, link_failures FROM resources ORDER BY id")
    assert [(r["id"], r["link_failures"]) for r in rows] == [(good.id, 0), (bad.id, 1)]
    assert net.internal.hits == [] and net.public.hits == ["HEAD /ok"]
