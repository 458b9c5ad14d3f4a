"""Starting without a network: one clear log line per attempt and a capped, growing wait.

discord.py reconnects by itself once it has logged in; what it does not do is retry the
first login (or the first gateway lookup), which fails with a long aiohttp traceback when
the machine has no network yet (a fresh boot, Wi-Fi down). `familybot run` catches exactly
those errors, says what happened in one line with the time of the next try, and tries again
after 5 s, 10 s, 20 s ... up to 5 minutes. A token Discord refuses is not a network error:
it still stops the bot at once with its own message.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta

import aiohttp
import discord

FIRST_DELAY_SECONDS = 5.0
MAX_DELAY_SECONDS = 300.0

# What "Discord cannot be reached right now" looks like; anything else is a real error.
NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.ClientError,  # cannot connect, DNS failure, connection reset, server disconnected
    ConnectionError,
    socket.gaierror,
    TimeoutError,
    discord.GatewayNotFound,
    discord.DiscordServerError,  # Discord answered 5xx
)


def retry_delays(
    first: float = FIRST_DELAY_SECONDS, cap: float = MAX_DELAY_SECONDS
) -> Iterator[float]:
    """5, 10, 20, 40, 80, 160, 300, 300, ... seconds."""
    delay = first
    while True:
        yield min(delay, cap)
        delay = min(delay * 2, cap)


def describe(exc: BaseException) -> str:
    """One short line for the log: what failed, without a traceback."""
    if isinstance(exc, discord.DiscordServerError):
        return f"Discord answered HTTP {exc.status}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        error = exc.os_error
        reason = (os.strerror(error.errno) if error.errno else None) or type(error).__name__
        return f"cannot connect to {exc.host}:{exc.port} ({reason})"
    if isinstance(exc, socket.gaierror):
        return f"cannot look up Discord's address ({exc.strerror})"
    if isinstance(exc, TimeoutError):
        return "the connection timed out"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _seconds(delay: float) -> str:
    whole = int(delay)
    if whole >= 60 and whole % 60 == 0:
        return f"{whole // 60} min"
    return f"{whole} s"


def retry_message(exc: BaseException, delay: float, now: datetime, attempt: int) -> str:
    """The log line for a failed start: reason, wait, and when the next try happens."""
    at = now + timedelta(seconds=delay)
    return (
        f"Cannot reach Discord: {describe(exc)}. Check this machine's network; trying again in "
        f"{_seconds(delay)}, at {at:%Y-%m-%d %H:%M:%S} UTC. attempt={attempt} "
        f"retry_in_seconds={int(delay)}"
    )


def database_retry_message(exc: BaseException, delay: float, now: datetime, attempt: int) -> str:
    """The log line for a start that found the PostgreSQL server down (booting, restarting,
    failing over): it is tried again like the network, not treated as a wrong setting."""
    at = now + timedelta(seconds=delay)
    return (
        f"{str(exc).rstrip('.')}. Check that PostgreSQL is running and DATABASE_URL in .env; "
        f"trying again in {_seconds(delay)}, at {at:%Y-%m-%d %H:%M:%S} UTC. attempt={attempt} "
        f"retry_in_seconds={int(delay)}"
    )
