"""URL safety for the resource library: only plain web links to a real, named public host.

What can be decided from the text alone is refused here, at suggest/add/import time: numeric
hosts, ports other than 80 and 443, private-network names (localhost, *.local, *.internal, ...;
see netguard.INTERNAL_NAMES). Names that resolve to private addresses are refused when the link
checker connects (familybot.services.resources.netguard).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import quote, urlsplit

from familybot import i18n
from familybot.errors import UserFacingError
from familybot.services.resources.netguard import ALLOWED_PORTS, internal_name

URL_MAX = 512
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD_RE = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
# Characters kept as they are in path, query and fragment; everything else is %-encoded.
_SAFE = "/:@!$&'()*+,;=-._~%?#"


class InvalidURL(UserFacingError):
    """The link is not one the library accepts; the message says why."""


def _bad(reason: str) -> InvalidURL:
    return InvalidURL(i18n._("That link can't be used: {reason}").format(reason=reason))


def _has_hidden_characters(text: str) -> bool:
    # Control (Cc), format (Cf: zero-width, RTL overrides), separators and any whitespace.
    return any(
        ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Zs", "Cs", "Co")
        for ch in text
    )


def _ascii_host(host: str) -> str:
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError as error:
        raise _bad(i18n._("its web address (host) isn't a valid name.")) from error
    return ascii_host


def validate_url(raw: str, *, allow_http: bool = False) -> str:
    """Return the normalised URL (host in punycode) or raise InvalidURL with a kind reason."""
    text = raw.strip()
    if not text:
        raise _bad(i18n._("it's empty."))
    if len(text) > URL_MAX:
        raise _bad(i18n._("it's longer than {limit} characters.").format(limit=URL_MAX))
    if "\\" in text:
        raise _bad(i18n._("it contains a backslash."))
    if _has_hidden_characters(text):
        raise _bad(i18n._("it contains spaces or hidden characters."))
    scheme, sep, _rest = text.partition(":")
    scheme = scheme.lower()
    allowed = ("https", "http") if allow_http else ("https",)
    if not sep or scheme not in allowed:
        need = i18n._("https:// (or http://)") if allow_http else "https://"
        raise _bad(i18n._("it must start with {need}.").format(need=need))
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise _bad(i18n._("it isn't a well-formed web address.")) from error
    if not text[len(scheme) + 1 :].startswith("//") or not parts.netloc:
        raise _bad(i18n._("it has no web address (host)."))
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise _bad(i18n._("it contains a user name or password."))
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise _bad(i18n._("it has no web address (host)."))
    if host.startswith("[") or _is_ip(host):
        raise _bad(i18n._("it points at a numeric address, not a named website."))
    if port is not None and port not in ALLOWED_PORTS:
        raise _bad(
            i18n._(
                "it uses port {port}; only the usual web ports (80 and 443) can be used."
            ).format(port=port)
        )
    ascii_host = _ascii_host(host)
    if internal_name(ascii_host):
        raise _bad(i18n._("it points at a private network name, not a public website."))
    labels = ascii_host.split(".")
    if len(labels) < 2 or not all(_LABEL_RE.match(label) for label in labels):
        raise _bad(i18n._("its web address (host) isn't a real website name."))
    if not _TLD_RE.match(labels[-1]) or ascii_host == "localhost" or len(ascii_host) > 253:
        raise _bad(i18n._("its web address (host) isn't a real website name."))
    netloc = ascii_host if port is None else f"{ascii_host}:{port}"
    path = quote(parts.path, safe=_SAFE)
    query = quote(parts.query, safe=_SAFE)
    fragment = quote(parts.fragment, safe=_SAFE)
    url = f"{scheme}://{netloc}{path or '/'}"
    if query:
        url += f"?{query}"
    if fragment:
        url += f"#{fragment}"
    if len(url) > URL_MAX:
        raise _bad(
            i18n._("it's longer than {limit} characters once written out in full.").format(
                limit=URL_MAX
            )
        )
    return url


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        # Also catch forms like 127.1 or 0x7f.1 that browsers read as numbers.
        return all(label.isdigit() or label.lower().startswith("0x") for label in host.split("."))
    return True
