"""Where the bot's own web requests may go: public addresses on ports 80 and 443, nothing else.

The link checker fetches links that server members suggested, so a link must never steer it at
the machine it runs on or at the host's private network (server-side request forgery). The rules
are applied in three places:

1. statically, to every URL before any request (and to every redirect's Location): only http(s),
   no user name or password, port 80 or 443, no internal names (localhost, *.local,
   *.internal, ...), and a numeric host must itself be a public address;
2. when a name is resolved (``GuardedResolver``): every address it resolves to must be public,
   or the name is refused as a whole;
3. when a socket is opened (``guarded_socket_factory``): the address actually connected to is
   checked once more, so nothing (a numeric host, a cached answer, DNS rebinding between a
   check and the connection) can reach an address the policy refuses.

Test seam: production uses ``STRICT``. A test may pass an ``AddressPolicy`` whose ``trusted``
set names exact ``(ip, port)`` socket addresses to treat as public (a local test server), and
a resolver that maps test names to that address. Nothing in the bot builds such a policy.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

ALLOWED_SCHEMES = ("http", "https")
ALLOWED_PORTS = frozenset({80, 443})
MAX_REDIRECTS = 5

# Names that only ever mean something inside a private network (RFC 6761, RFC 6762, RFC 8375,
# ICANN's never-delegated names). A host equal to one of these, or ending in ".<one>", is refused.
INTERNAL_NAMES = (
    "localhost",
    "localdomain",
    "local",
    "internal",
    "intranet",
    "lan",
    "home",
    "corp",
    "private",
    "arpa",  # reverse-DNS names (in-addr.arpa) and home.arpa
    "invalid",
    "onion",
)

_V4_BLOCKED = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network", 0.0.0.0
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
    )
)
_V6_BLOCKED = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/96",  # unspecified, loopback, IPv4-compatible (deprecated)
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard
        "2001::/23",  # IETF protocol assignments (Teredo, ORCHID, ...)
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
_V6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def ip_refusal(text: str) -> str | None:
    """Why an IP address is not public (None when it is). Unwraps IPv4 inside IPv6 forms."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d
            return ip_refusal(str(ip.ipv4_mapped))
        if ip in _NAT64:  # 64:ff9b::a.b.c.d reaches a.b.c.d through a NAT64 gateway
            return ip_refusal(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
        if ip.sixtofour is not None:  # 2002:a.b.c.d::/48 reaches a.b.c.d through 6to4
            return ip_refusal(str(ip.sixtofour))
        if any(ip in net for net in _V6_BLOCKED) or ip not in _V6_GLOBAL_UNICAST:
            return "a private or reserved address"
    elif any(ip in net for net in _V4_BLOCKED):
        return "a private or reserved address"
    if (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    ):
        return "a private or reserved address"
    return None


def internal_name(host: str) -> bool:
    """True for names that only mean something inside a private network (or are numeric)."""
    name = host.lower().rstrip(".")
    return any(name == n or name.endswith("." + n) for n in INTERNAL_NAMES)


def _is_numeric_host(host: str) -> bool:
    """IP literals, and the forms (2130706433, 0x7f.1, 0177.0.0.1) resolvers read as numbers."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        labels = host.split(".")
        return all(
            label.isdigit() or label.lower().startswith("0x") for label in labels if label
        ) and any(labels)
    return True


@dataclass(frozen=True)
class AddressPolicy:
    """Which socket addresses requests may connect to. ``STRICT`` is the only production policy.

    ``trusted`` is the test seam: exact (ip, port) pairs treated as public (a local test server).
    """

    trusted: frozenset[tuple[str, int]] = field(default_factory=frozenset)
    ports: frozenset[int] = ALLOWED_PORTS

    def refusal(self, ip: str, port: int) -> str | None:
        """Why connecting to ip:port is refused (None when allowed)."""
        bare = ip.split("%", 1)[0]  # an IPv6 scope id (fe80::1%eth0) is not part of the address
        if (bare, port) in self.trusted:
            return None
        if port not in self.ports:
            return f"port {port} is not 80 or 443"
        reason = ip_refusal(bare)
        return None if reason is None else f"{bare} is {reason}"

    def url_refusal(self, url: str) -> str | None:
        """Why a URL (a stored link, or a redirect's target) must not be fetched, before any
        request: scheme, user name, port, internal names and numeric hosts. None when it may.

        The host is read the way the HTTP client will read it (yarl, IDNA-encoded), so forms
        like full-width digits are judged as the address they become."""
        if "\\" in url or any(ch.isspace() for ch in url):
            return "it contains a backslash or spaces"
        try:
            parts = urlsplit(url)
            target = URL(url)
            _ = parts.port
        except ValueError:
            return "not a well-formed web address"
        scheme = (target.scheme or "").lower()
        if scheme not in ALLOWED_SCHEMES or parts.scheme.lower() != scheme:
            return "only http and https links are checked"
        if "@" in parts.netloc or target.user is not None or target.password is not None:
            return "it contains a user name or password"
        host = (target.raw_host or "").rstrip(".")
        if not host:
            return "it has no host"
        port = target.port if target.port is not None else (443 if scheme == "https" else 80)
        if _is_numeric_host(host):
            try:
                ipaddress.ip_address(host)
            except ValueError:
                return "it uses an unusual numeric address"
            return self.refusal(host, port)
        if internal_name(host):
            return "it names a host on a private network"
        if port not in self.ports:
            return f"port {port} is not 80 or 443"
        return None


STRICT = AddressPolicy()


class AddressRefused(OSError):
    """A connection the address policy refuses; raised before any byte is sent."""


class GuardedResolver(AbstractResolver):
    """Resolves through ``inner`` and refuses the name if ANY address it gives is not allowed."""

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner if inner is not None else aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if not results:
            raise OSError(f"{host} did not resolve")
        for result in results:
            reason = self._policy.refusal(result["host"], result["port"])
            if reason is not None:
                raise AddressRefused(f"{host} resolves to a refused address: {reason}")
        return results

    async def close(self) -> None:
        await self._inner.close()


def guarded_socket_factory(policy: AddressPolicy) -> Callable[[Any], socket.socket]:
    """A socket factory that refuses to create a socket for an address the policy refuses."""

    def factory(addr_info: Any) -> socket.socket:
        family, type_, proto, _canon, address = addr_info
        reason = policy.refusal(str(address[0]), int(address[1]))
        if reason is not None:
            raise AddressRefused(f"refused to connect: {reason}")
        return socket.socket(family=family, type=type_, proto=proto)

    return factory


def guarded_connector(
    policy: AddressPolicy = STRICT,
    resolver: AbstractResolver | None = None,
    *,
    limit: int = 100,
) -> aiohttp.TCPConnector:
    """A connector that can only reach addresses ``policy`` allows (checked at resolve time and
    again when each socket is opened)."""
    return aiohttp.TCPConnector(
        limit=limit,
        resolver=GuardedResolver(policy, resolver),
        socket_factory=guarded_socket_factory(policy),
    )
