"""A server with people in it, and the real FamilyBot connected to the fake Discord."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from familybot.bot import FamilyBot
from familybot.clock import Clock
from familybot.config import load_settings
from familybot.db.connection import Database, PostgresDatabase
from familybot.models.reminders import ReminderCard
from tests.support.fake_discord import FakeDiscord, InteractionHandle, Recorded
from tests.support.fake_discord.errors import ApiError
from tests.support.fake_discord.interactions import EPHEMERAL
from tests.support.fake_discord.permissions import MANAGE_GUILD, VIEW_CHANNEL


@dataclass
class Backend:
    """The database every World of the running test starts its bot on (tests/e2e/conftest.py
    sets it per test variant): SQLite in the World's tmp dir when `url` is None, else the
    PostgreSQL database at `url` (the test session's shared database, reset once per test
    before its first bot starts, by `reset`)."""

    url: str | None = None
    reset: Callable[[], Awaitable[str]] | None = None


ACTIVE = Backend()


async def active_database_url() -> str | None:
    if ACTIVE.reset is not None:
        reset, ACTIVE.reset = ACTIVE.reset, None
        ACTIVE.url = await reset()
    return ACTIVE.url


@dataclass
class World:
    fake: FakeDiscord
    tmp: Path
    #: The PostgreSQL database the bot runs on (DATABASE_URL), None for SQLite at db_path.
    #: Filled from ACTIVE when the bot first starts.
    database_url: str | None = None
    guild_id: int = 0
    owner: int = 0
    admin: int = 0
    facilitator: int = 0
    alice: int = 0
    bob: int = 0
    carol: int = 0
    facilitator_role: int = 0
    alerts_channel: int = 0
    modlog_channel: int = 0
    bot: FamilyBot | None = None
    clock: Clock | None = None
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)
    #: (request, body) of everything shown to @everyone, judged when each request was made.
    public_log: list[tuple[str, Any]] = field(default_factory=list)
    _followups_seen: dict[str, int] = field(default_factory=dict)
    _hook_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.fake.request_hooks.append(self._note_request)

    def _note_request(self, r: Recorded) -> None:
        # Judged at request time: a channel opened to everyone later did not leak earlier posts.
        try:
            if _is_public(self.fake, r, self._followups_seen) and r.json_body:
                self.public_log.append((f"{r.method} {r.path}", r.json_body))
        except Exception as exc:  # a broken check must fail the test, not the fake's reply
            self._hook_errors.append(f"{r.method} {r.path}: {exc!r}")

    @property
    def db_path(self) -> Path:
        return self.tmp / "familybot.db"

    def populate(self) -> None:
        fake = self.fake
        self.owner = fake.add_user(name="owner")
        self.guild_id = fake.add_guild("Family Support", owner_id=self.owner)
        self.facilitator_role = fake.add_role(self.guild_id, "Facilitator")
        self.admin = fake.add_member(self.guild_id, name="admin", permissions=MANAGE_GUILD)
        self.facilitator = fake.add_member(self.guild_id, name="fac", roles=[self.facilitator_role])
        self.alice = fake.add_member(self.guild_id, name="alice")
        self.bob = fake.add_member(self.guild_id, name="bob")
        self.carol = fake.add_member(self.guild_id, name="carol")
        private = [
            {"id": self.guild_id, "type": 0, "allow": 0, "deny": VIEW_CHANNEL},
            {"id": self.facilitator_role, "type": 0, "allow": VIEW_CHANNEL, "deny": 0},
            {"id": fake.bot_user_id, "type": 1, "allow": VIEW_CHANNEL, "deny": 0},
        ]
        self.alerts_channel = fake.add_text_channel(
            self.guild_id, "facilitator-alerts", permission_overwrites=private
        )
        self.modlog_channel = fake.add_text_channel(
            self.guild_id, "mod-log", permission_overwrites=private
        )

    async def start_bot(self, **env: str) -> FamilyBot:
        if self.database_url is None:
            self.database_url = await active_database_url()
        if self.database_url is not None:
            env = {"DATABASE_URL": self.database_url, **env}
        settings = load_settings(
            self.tmp / "none.env",
            environ={
                "DISCORD_TOKEN": self.fake.token,
                "DATABASE_PATH": str(self.db_path),
                # A test that moves the clock past the backup hour backs up here, not into cwd.
                "BACKUP_DIR": str(self.tmp / "backups"),
                "DEV_GUILD_ID": str(self.guild_id),
                "DEFAULT_TIMEZONE": "America/New_York",
                **env,
            },
        )
        bot = FamilyBot(settings, clock=self.clock)
        await self._stack.enter_async_context(self.fake.running(bot))
        self.bot = bot
        return bot

    async def stop_bot(self) -> None:
        await self._stack.aclose()
        self._stack = contextlib.AsyncExitStack()
        self.bot = None
        # Every World, whoever builds it, keeps the care promise (see the end of this file).
        assert_nothing_private_in_public(self)

    async def crash(self) -> None:
        """Stop the bot as a crash would: no care check (the state may be half-done)."""
        await self._stack.aclose()
        self._stack = contextlib.AsyncExitStack()
        self.bot = None

    async def restart(self) -> FamilyBot:
        await self.stop_bot()
        return await self.start_bot()

    async def configure(self) -> None:
        """Run /setup as the admin: facilitator role and alerts channel."""
        h = await self.fake.slash(
            self.guild_id,
            self.admin,
            "setup",
            "facilitator-role",
            options={"role": self.facilitator_role},
        )
        await h.wait_response()
        h = await self.fake.slash(
            self.guild_id, self.admin, "setup", "alerts", options={"channel": self.alerts_channel}
        )
        await h.wait_response()

    # --- conveniences --------------------------------------------------------------------------
    async def run(self, user: int, *names: str, **options: Any) -> Any:
        options = {k.replace("_", "-"): v for k, v in options.items()}
        handle = await self.fake.slash(self.guild_id, user, *names, options=options or None)
        await handle.wait_response()
        return handle

    async def run_to_end(self, user: int, *names: str, **options: Any) -> Any:
        """For deferred commands: wait for the followup after the deferral."""
        handle = await self.run(user, *names, **options)
        if handle.response_type == 5:
            await handle.wait_for("followup")
        return handle


async def rows(world: World, sql: str, *params: object) -> list[dict[str, Any]]:
    """What the database holds now, read through a connection of the test's own."""
    db = await open_database(world)
    try:
        return [dict(r) for r in await db.fetchall(sql, params)]
    finally:
        await db.close()


async def open_database(world: World) -> Database:
    """A connection of the test's own to the World's database, whichever the backend."""
    if world.database_url is None:
        world.database_url = await active_database_url()
    if world.database_url is not None:
        return await PostgresDatabase.open_url(world.database_url, max_size=2)
    return await Database.open(world.db_path)


async def table_names(world: World) -> list[str]:
    """The tables of the World's database (the application's, not the engine's own)."""
    if world.database_url is None:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        sql = "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
    return sorted(str(r["name"]) for r in await rows(world, sql))


def read_sync(
    world: World, sql: str, params: tuple[Any, ...] = (), *, missing_ok: bool = False
) -> list[tuple[Any, ...]]:
    """Rows of `sql` (with ? placeholders) from the World's database, read without the
    event loop (for the care check and for polling in `eventually`). With missing_ok, a
    database or table that is not there reads as no rows."""
    if world.database_url is not None:
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, _pg_read(world.database_url, sql, params)).result()
    if missing_ok and not world.db_path.exists():
        return []
    conn = sqlite3.connect(f"file:{world.db_path}?mode=ro", uri=True)
    try:
        return [tuple(r) for r in conn.execute(sql, params)]
    except sqlite3.OperationalError:
        if missing_ok:
            return []
        raise
    finally:
        conn.close()


async def _pg_read(url: str, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    db = await PostgresDatabase.open_url(url, max_size=1)
    try:
        found = await db.fetchall(sql, params)
        return [tuple(r[i] for i in range(len(list(r.keys())))) for r in found]
    finally:
        await db.close()


def tables_sync(world: World) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the World's database and its rows (sorted), read without the loop."""
    if world.database_url is None:
        conn = sqlite3.connect(f"file:{world.db_path}?mode=ro", uri=True)
        try:
            names = [
                t
                for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if not t.startswith("sqlite_")
            ]
            return {t: sorted(map(tuple, conn.execute(f'SELECT * FROM "{t}"'))) for t in names}
        finally:
            conn.close()
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _pg_tables(world.database_url)).result()


async def _pg_tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=5)
    try:
        names = [
            r[0]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        return {t: sorted(map(tuple, await conn.fetch(f'SELECT * FROM "{t}"'))) for t in names}
    finally:
        await conn.close()


async def stored_bytes(world: World) -> bytes:
    """Where any stored text would be: SQLite's file and its write-ahead log, or on
    PostgreSQL every row of every table, as text."""
    if world.database_url is None:

        def read() -> bytes:
            files = (world.db_path, Path(f"{world.db_path}-wal"))
            return b"".join(p.read_bytes() for p in files if p.exists())

        return await asyncio.to_thread(read)
    import asyncpg

    conn = await asyncpg.connect(world.database_url, timeout=5)
    try:
        names = [
            r[0]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        out = [
            str(r[0]).encode()
            for t in names
            for r in await conn.fetch(f'SELECT t::text FROM public."{t}" t')
        ]
    finally:
        await conn.close()
    assert out, "no rows at all: nothing was stored, so nothing could be checked"
    return b"\n".join(out)


async def eventually(check: Callable[[], Any], timeout: float = 3.0) -> Any:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def text_of(body: Any) -> str:
    """Everything a person would read in a message body: content, embeds, buttons."""
    if not isinstance(body, dict):
        return ""
    data = body.get("data", body) if "type" in body and "data" in body else body
    if not isinstance(data, dict):
        return ""
    parts = [str(data.get("content") or "")]
    for embed in data.get("embeds") or []:
        parts += [str(embed.get("title") or ""), str(embed.get("description") or "")]
        for f in embed.get("fields") or []:
            parts += [str(f.get("name")), str(f.get("value"))]
        footer = embed.get("footer") or {}
        parts.append(str(footer.get("text") or ""))
    for row in data.get("components") or []:
        for c in row.get("components") or []:
            parts.append(str(c.get("label") or ""))
    return "\n".join(p for p in parts if p)


def custom_ids(body: Any) -> list[str]:
    data = body.get("data", body) if isinstance(body, dict) else {}
    ids = []
    for row in (data or {}).get("components") or []:
        for c in row.get("components") or []:
            if c.get("custom_id"):
                ids.append(c["custom_id"])
    return ids


def public_channel_posts(world: World) -> list[tuple[int, Any]]:
    """Bodies the bot posted into guild channels a plain member can see."""
    out = []
    for r in world.fake.requests_to("POST", r"/channels/\d+/messages"):
        cid = int(r.path.split("/")[2])
        if everyone_can_view(world.fake, cid):
            out.append((cid, r.json_body))
    return out


# --- the care promise, checked whenever a World's bot stops ------------------------------------
# Nothing about who is in which group, or who said they are coming, may reach a place
# @everyone can see: no mention, no member's id (even inside a button's custom_id), and no
# name of anyone with a membership or an RSVP. Every recorded request is looked at: channel
# messages and edits, interaction replies and followups that are not ephemeral, channel and
# thread names and topics, and scheduled events (which every member of the server sees).
# Beyond requests, the server as a plain member sees it at the end is judged too
# (world_view_violations): every member's roles, channel and thread names, the Events panel.

EVERYONE_PROBE = 1  # an id on no server: it sees exactly what @everyone sees
_MENTION = re.compile(r"<@[!&]?\d+>")
_CHANNEL_MESSAGE = re.compile(r"/channels/(\d+)/messages(?:/\d+)?")
_THREAD_CREATE = re.compile(r"/channels/(\d+)(?:/messages/\d+)?/threads")
_CHANNEL_EDIT = re.compile(r"/channels/(\d+)")
_CHANNEL_CREATE = re.compile(r"/guilds/(\d+)/channels")
_EVENT = re.compile(r"/guilds/\d+/scheduled-events(?:/\d+)?")
_CALLBACK = re.compile(r"/interactions/\d+/([^/]+)/callback")
_FOLLOWUP = re.compile(r"/webhooks/\d+/([^/]+)")
_WEBHOOK_EDIT = re.compile(r"/webhooks/\d+/([^/]+)/messages/([^/]+)")
PRIVATE_THREAD = 12


def everyone_can_view(fake: FakeDiscord, channel_id: int) -> bool | None:
    """True/False for a channel the fake knows; None when it no longer exists."""
    try:
        channel = fake.channel(channel_id)
    except ApiError:
        return None
    if "guild_id" not in channel:
        return False  # a DM
    return bool(fake.permissions_in(channel_id, EVERYONE_PROBE) & VIEW_CHANNEL)


def _ephemeral(flags: Any) -> bool:
    return bool(int(flags or 0) & EPHEMERAL)


def _handle_for_token(fake: FakeDiscord, token: str) -> InteractionHandle | None:
    return next((h for h in fake.interactions.values() if h.token == token), None)


def _public_interaction_body(
    fake: FakeDiscord, r: Recorded, followups_seen: dict[str, int]
) -> bool:
    """Whether an interaction reply, followup or edit was visible to the whole channel."""
    body = r.json_body if isinstance(r.json_body, dict) else {}
    if m := _CALLBACK.fullmatch(r.path):
        handle = _handle_for_token(fake, m.group(1))
        ctype = int(body.get("type") or 0)
        if handle is None or ctype not in (4, 7):
            return False  # deferrals, modals and autocomplete show no content
        if ctype == 7:  # updates the message the component is on
            on = handle.payload.get("message") or {}
            # A click on a message the fake never stored stands for one on an ephemeral reply.
            try:
                on = fake.message_anywhere(int(on.get("id") or 0))
            except KeyError:
                return False
            return not _ephemeral(on.get("flags")) and bool(
                everyone_can_view(fake, int(on["channel_id"]))
            )
        return not _ephemeral((body.get("data") or {}).get("flags")) and bool(
            everyone_can_view(fake, int(handle.channel_id or 0))
        )
    if m := _WEBHOOK_EDIT.fullmatch(r.path):
        handle = _handle_for_token(fake, m.group(1))
        if handle is None:
            return False
        target = m.group(2)
        found = (
            handle.original_message
            if target == "@original"
            else next((x for x in handle.followups if x.get("id") == target), None)
        )
        return not _ephemeral((found or {}).get("flags")) and bool(
            everyone_can_view(fake, int(handle.channel_id or 0))
        )
    if m := _FOLLOWUP.fullmatch(r.path):
        token = m.group(1)
        handle = _handle_for_token(fake, token)
        if handle is None:
            return False
        followups_seen[token] = followups_seen.get(token, 0) + 1
        deferred = (handle.callback or {}).get("type") == 5
        deferred_flags = ((handle.callback or {}).get("data") or {}).get("flags")
        if deferred and followups_seen[token] == 1 and _ephemeral(deferred_flags):
            return False  # the first followup replaces the (ephemeral) "thinking..." message
        return not _ephemeral(body.get("flags")) and bool(
            everyone_can_view(fake, int(handle.channel_id or 0))
        )
    return False


def _is_public(fake: FakeDiscord, r: Recorded, followups_seen: dict[str, int]) -> bool:
    """Whether a request showed its body to @everyone, judged against the fake's state now."""
    body = r.json_body
    if r.method in ("POST", "PATCH") and (m := _CHANNEL_MESSAGE.fullmatch(r.path)):
        return bool(everyone_can_view(fake, int(m.group(1))))
    if r.method == "POST" and (m := _THREAD_CREATE.fullmatch(r.path)):
        private = isinstance(body, dict) and body.get("type") == PRIVATE_THREAD
        return not private and bool(everyone_can_view(fake, int(m.group(1))))
    if r.method == "PATCH" and (m := _CHANNEL_EDIT.fullmatch(r.path)):
        return bool(everyone_can_view(fake, int(m.group(1))))
    if r.method == "POST" and (m := _CHANNEL_CREATE.fullmatch(r.path)):
        guild_id = int(m.group(1))
        overwrites = (body or {}).get("permission_overwrites") or []
        return not any(
            int(o["id"]) == guild_id and int(o.get("deny") or 0) & VIEW_CHANNEL for o in overwrites
        )
    if r.method in ("POST", "PATCH") and _EVENT.fullmatch(r.path):
        return True
    if r.method in ("POST", "PATCH"):
        return _public_interaction_body(fake, r, followups_seen)
    return False


def _identities(world: World) -> tuple[set[str], set[str]]:
    """(ids of every person on the server, names of everyone in a group or with an RSVP)."""
    fake = world.fake
    ids: set[str] = set()
    for guild in fake.guilds.values():
        ids |= {str(uid) for uid in guild.members if uid != fake.bot_user_id}
    people: set[int] = set()
    for table in ("memberships", "rsvps", "attendance"):
        people |= {
            int(u) for (u,) in read_sync(world, f"SELECT user_id FROM {table}", missing_ok=True)
        }
    names: set[str] = set()
    for uid in people:
        user = fake.users.get(uid) or {}
        names |= {str(user.get(k)) for k in ("username", "global_name") if user.get(k)}
        for guild in fake.guilds.values():
            nick = (guild.members.get(uid) or {}).get("nick")
            if nick:
                names.add(str(nick))
    return ids, names


def _groups_known(world: World) -> list[tuple[str, int | None, int | None]]:
    """(name, role_id, channel_id) of every group the database holds, archived ones too."""
    found = read_sync(world, "SELECT name, role_id, channel_id FROM groups", missing_ok=True)
    return [(str(n), r, c) for n, r, c in found]


def world_view_violations(
    world: World, id_re: re.Pattern[str] | None, name_re: re.Pattern[str] | None
) -> list[str]:
    """What a plain member with no roles sees of the server now, beyond messages: every
    member's roles (their names show on profiles and group the member list), channel and
    thread names and topics, and the Events panel. None of it may tell who is in which group.
    Visibility comes from the fake Discord's own permission maths for that member."""
    fake = world.fake
    groups = _groups_known(world)
    group_names = [name for name, _, _ in groups]
    names_group = (
        re.compile(r"\b(" + "|".join(re.escape(n) for n in sorted(group_names)) + r")\b", re.I)
        if group_names
        else None
    )
    group_roles = {int(r) for _, r, _ in groups if r is not None}
    group_channels = {int(c) for _, _, c in groups if c is not None}
    problems: list[str] = []

    def personal(what: str, text: str) -> None:
        for label, pattern in (
            ("a mention", _MENTION),
            ("a member id", id_re),
            ("a name", name_re),
        ):
            hit = pattern.search(text) if pattern is not None and text else None
            if hit:
                problems.append(
                    f"{what} shows {label} ({hit.group(0)!r}) to everyone: {text[:200]}"
                )

    for guild in fake.guilds.values():
        # Profiles and the member list: the roles each member holds, by name.
        for uid, member in guild.members.items():
            for rid in member["roles"]:
                role = guild.roles.get(int(rid))
                if role is None:
                    continue
                hit = names_group.search(str(role["name"])) if names_group else None
                if hit or int(rid) in group_roles:
                    problems.append(
                        f"member {uid} holds role {role['name']!r}, which tells everyone "
                        "viewing their profile which group they are in"
                    )
            if member.get("nick") and names_group and names_group.search(str(member["nick"])):
                problems.append(f"member {uid}'s nickname names a group")
        # Scheduled events: every member of the server sees the Events panel.
        for event in guild.scheduled_events.values():
            location = (event.get("entity_metadata") or {}).get("location") or ""
            text = " ".join(str(event.get(k) or "") for k in ("name", "description"))
            personal(f"scheduled event {event['id']}", f"{text} {location}")
    # Channels and threads: names and topics of what a plain member can see; a group's own
    # channel must not be visible to them at all.
    for cid, channel in list(fake.channels.items()):
        if "guild_id" not in channel:
            continue
        visible = bool(fake.permissions_in(cid, EVERYONE_PROBE) & VIEW_CHANNEL)
        if cid in group_channels and visible:
            problems.append(f"group channel {cid} ({channel['name']!r}) is visible to everyone")
        if visible:
            personal(f"channel {cid}", f"{channel.get('name') or ''} {channel.get('topic') or ''}")
    return problems


def privacy_violations(world: World) -> list[str]:
    ids, names = _identities(world)
    id_re = re.compile(r"(?<!\d)(" + "|".join(sorted(ids)) + r")(?!\d)") if ids else None
    name_re = (
        re.compile(r"\b(" + "|".join(re.escape(n) for n in sorted(names)) + r")\b", re.I)
        if names
        else None
    )
    problems = list(world._hook_errors)
    for what, body in world.public_log:
        dumped = json.dumps(body, ensure_ascii=False)
        for label, pattern in (
            ("a mention", _MENTION),
            ("a member id", id_re),
            ("a name", name_re),
        ):
            hit = pattern.search(dumped) if pattern is not None else None
            if hit:
                problems.append(
                    f"{what} shows {label} ({hit.group(0)!r}) to @everyone: {dumped[:300]}"
                )
    problems += world_view_violations(world, id_re, name_re)
    return problems


def assert_nothing_private_in_public(world: World) -> None:
    problems = privacy_violations(world)
    assert not problems, "care promise broken:\n" + "\n".join(problems)


def reminder_cards(count: int, start: datetime) -> list[ReminderCard]:
    """`count` reminder cards for one made-up session (ledger ids 1..count): the burst the
    pacing tests send straight through the reminders adapter."""
    return [
        ReminderCard(
            ledger_id=i,
            series_id=1,
            occurrence_key="2030-01-01",
            group_name="Parents Circle",
            title="Check-in",
            start=start,
            end=start + timedelta(hours=1),
            voice_channel_id=None,
            going=0,
            maybe=0,
            no=0,
            late=False,
        )
        for i in range(1, count + 1)
    ]
