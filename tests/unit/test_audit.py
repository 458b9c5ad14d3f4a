"""The audit log: append-only in the database itself, best-effort recording, and the
/setup show rules (familybot/services/setup/diagnostics.py) over plain facts."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from discord import app_commands

from familybot.db.connection import Database
from familybot.db.migrate import migrate
from familybot.db.repositories.audit import AuditRepository
from familybot.db.repositories.groups import GroupRepository
from familybot.errors import DiscordActionFailed, UserFacingError
from familybot.models import GuildSettings
from familybot.models.audit import AuditEntry, AuditResult, AuditTarget, TargetKind
from familybot.models.diagnostics import ChannelFacts, GuildFacts
from familybot.permissions import PERMISSION_BITS
from familybot.services.audit.service import AuditService
from familybot.services.setup.diagnostics import diagnose
from familybot.tree_audit import result_for
from familybot.ui.audit import EMBED_LIMIT, audit_embed
from familybot.wiring import Services
from tests.support.fakes import FakeClock

GUILD, OTHER_GUILD, ADMIN, ALICE = 10, 20, 100, 200

INSERT = (
    "INSERT INTO audit_log (guild_id, actor_id, action, target_id, target_kind, result, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


async def raw(db: Database, sql: str, params: tuple[object, ...] = ()) -> None:
    await db.execute(sql, params)


async def test_rows_can_be_added_but_never_changed(db: Database) -> None:
    await raw(db, INSERT, (GUILD, ADMIN, "mod.ban", ALICE, "user", "ok", 1))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await raw(db, "UPDATE audit_log SET result = 'failed'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await raw(db, "UPDATE audit_log SET actor_id = 1 WHERE id = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await raw(db, "DELETE FROM audit_log")
    rows = await db.fetchall("SELECT actor_id, result FROM audit_log")
    assert [tuple(r) for r in rows] == [(ADMIN, "ok")]


async def test_only_a_server_allowed_for_purge_can_be_deleted(db: Database) -> None:
    await raw(db, INSERT, (GUILD, ADMIN, "setup.alerts", 5, "channel", "ok", 1))
    await raw(db, INSERT, (OTHER_GUILD, ADMIN, "setup.alerts", 6, "channel", "ok", 1))
    # The retention purge: allow the server, delete its rows, take the allowance back.
    await raw(db, "INSERT INTO audit_purge_allowed (guild_id) VALUES (?)", (GUILD,))
    await raw(db, "DELETE FROM audit_log WHERE guild_id = ?", (GUILD,))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await raw(db, "DELETE FROM audit_log WHERE guild_id = ?", (OTHER_GUILD,))
    await raw(db, "DELETE FROM audit_purge_allowed WHERE guild_id = ?", (GUILD,))
    assert [r[0] for r in await db.fetchall("SELECT guild_id FROM audit_log")] == [OTHER_GUILD]
    # Purged rows stay purged; new rows for that server are protected again.
    await raw(db, INSERT, (GUILD, ADMIN, "setup.show", None, None, "ok", 2))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await raw(db, "DELETE FROM audit_log WHERE guild_id = ?", (GUILD,))


async def test_result_and_target_are_constrained(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        await raw(db, INSERT, (GUILD, ADMIN, "mod.ban", ALICE, "user", "maybe", 1))
    with pytest.raises(sqlite3.IntegrityError):
        await raw(db, INSERT, (GUILD, ADMIN, "mod.ban", ALICE, "nickname", "ok", 1))
    with pytest.raises(sqlite3.IntegrityError):  # an id without saying what it is
        await raw(db, INSERT, (GUILD, ADMIN, "mod.ban", ALICE, None, "ok", 1))


async def test_service_records_and_lists_newest_first(
    services: Services, clock: FakeClock, db: Database
) -> None:
    audit = services.audit
    assert await audit.record(
        GUILD, ADMIN, "setup.alerts", AuditTarget(5, TargetKind.CHANNEL), AuditResult.OK
    )
    clock.advance(minutes=1)
    await audit.record(
        GUILD, ALICE, "mod.warn", AuditTarget(ADMIN, TargetKind.USER), AuditResult.REFUSED
    )
    await audit.record(OTHER_GUILD, ADMIN, "setup.show", None, AuditResult.OK)
    entries = await audit.recent(GUILD)
    assert [(e.actor_id, e.action, e.result) for e in entries] == [
        (ALICE, "mod.warn", AuditResult.REFUSED),
        (ADMIN, "setup.alerts", AuditResult.OK),
    ]
    assert entries[0].created_at == clock.now()
    assert entries[1].target == AuditTarget(5, TargetKind.CHANNEL)
    assert [e.action for e in await audit.recent(GUILD, actor_id=ADMIN)] == ["setup.alerts"]
    assert len(await audit.recent(GUILD, count=1)) == 1
    exported = await audit.export_user_data(ADMIN)
    assert {(e["guild_id"], e["action"]) for e in exported} == {
        (GUILD, "setup.alerts"),
        (GUILD, "mod.warn"),  # ADMIN was its target
        (OTHER_GUILD, "setup.show"),
    }


async def test_group_target_finds_active_then_archived(services: Services) -> None:
    audit = services.audit
    assert await audit.group_target(GUILD, "Nobody's Group") is None
    await services.db.execute(
        "INSERT INTO groups (guild_id, name, name_key, description, focus, capacity, "
        "join_mode, guidelines, guidelines_version, status, created_by, created_at, "
        "archived_at) VALUES (?, 'Parents', 'parents', 'd', 'f', NULL, 'open', 'g', 1, "
        "'archived', ?, 1, 2)",
        (GUILD, ADMIN),
    )
    target = await audit.group_target(GUILD, "parents")
    assert target is not None and target.kind is TargetKind.GROUP


async def test_a_failed_write_is_logged_with_ids_and_never_raises(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    db = await Database.open(tmp_path / "a.db")
    await migrate(db)
    audit = AuditService(AuditRepository(db), GroupRepository(db), clock)
    await db.close()  # every write now fails
    with caplog.at_level(logging.ERROR, logger="familybot.services.audit.service"):
        ok = await audit.record(
            GUILD, ADMIN, "mod.ban", AuditTarget(ALICE, TargetKind.USER), AuditResult.OK
        )
    assert ok is False
    (record,) = caplog.records
    assert record.getMessage().startswith(
        f"audit record failed guild={GUILD} actor={ADMIN} action=mod.ban"
    )


def test_errors_map_to_refused_or_failed() -> None:
    def invoke(error: Exception) -> app_commands.CommandInvokeError:
        wrapped = app_commands.CommandInvokeError.__new__(app_commands.CommandInvokeError)
        wrapped.original = error
        return wrapped

    assert result_for(app_commands.CheckFailure("no")) is AuditResult.REFUSED
    assert result_for(app_commands.NoPrivateMessage()) is AuditResult.REFUSED
    assert result_for(invoke(UserFacingError("bad date"))) is AuditResult.REFUSED
    assert result_for(invoke(DiscordActionFailed("403"))) is AuditResult.FAILED
    assert result_for(invoke(RuntimeError("bug"))) is AuditResult.FAILED


async def test_a_check_that_could_not_decide_is_recorded_as_failed_not_refused() -> None:
    """The facilitator check met a down database (found in review): the person is told the
    database is busy, so the audit log must not say the command was refused."""
    from types import SimpleNamespace

    from familybot.checks import is_facilitator
    from familybot.db.connection import DatabaseUnavailable

    async def down(guild_id: int, actor: object) -> bool:
        raise DatabaseUnavailable("down", kind="down")

    def command() -> None: ...

    is_facilitator()(command)
    (check,) = command.__discord_app_commands_checks__  # type: ignore[attr-defined]
    perms = SimpleNamespace(manage_guild=False, administrator=False)
    interaction = SimpleNamespace(
        guild_id=GUILD,
        user=SimpleNamespace(id=ALICE, roles=[]),
        permissions=perms,
        client=SimpleNamespace(
            services=SimpleNamespace(setup=SimpleNamespace(is_facilitator=down))
        ),
    )
    with pytest.raises(app_commands.CheckFailure) as raised:
        await check(interaction)
    assert result_for(raised.value) is AuditResult.FAILED
    # A real refusal stays a refusal.
    assert result_for(app_commands.CheckFailure("not a facilitator")) is AuditResult.REFUSED


def test_audit_embed_fits_discords_limit(clock: FakeClock) -> None:
    entries = [
        AuditEntry(
            id=i,
            guild_id=GUILD,
            actor_id=1_100_000_000_000_000_000 + i,
            action="group.add-facilitator",
            target=AuditTarget(1_100_000_000_000_001_000 + i, TargetKind.USER),
            result=AuditResult.REFUSED,
            created_at=clock.now() - timedelta(minutes=i),
        )
        for i in range(50)
    ]
    embed = audit_embed(entries)
    assert embed.description is not None
    assert len(embed.description) <= EMBED_LIMIT
    assert "more" in embed.description.splitlines()[-1]
    assert "<@1100000000000001000>" in embed.description  # the newest first
    short = audit_embed(entries[:3]).description or ""
    assert len(short.splitlines()) == 3 and "more" not in short
    assert "Nothing recorded yet" in (audit_embed([]).description or "")


# --- /setup show's rules ------------------------------------------------------------------
ALL_PERMS = frozenset(PERMISSION_BITS)  # everything permissions.py NEEDS
ROLE, ALERTS, MODLOG = 1, 2, 3


def healthy() -> tuple[GuildSettings, GuildFacts]:
    settings = GuildSettings(
        guild_id=GUILD, facilitator_role_id=ROLE, alerts_channel_id=ALERTS, modlog_channel_id=MODLOG
    )
    private = ChannelFacts(bot_permissions=ALL_PERMS, everyone_can_view=False)
    facts = GuildFacts(
        bot_permissions=ALL_PERMS,
        roles=frozenset({ROLE}),
        roles_below_bot=frozenset({ROLE}),
        channels={ALERTS: private, MODLOG: private},
        message_content_wanted=False,
        message_content_requested=False,
        message_content_enabled=False,
    )
    return settings, facts


def lines(settings: GuildSettings, facts: GuildFacts) -> list[str]:
    return [p.line() for p in diagnose(settings, [], facts)]


def test_a_healthy_server_has_no_problems() -> None:
    assert lines(*healthy()) == []


def test_each_misconfiguration_is_named_with_a_fix() -> None:
    settings, facts = healthy()
    broken = replace(
        facts,
        bot_permissions=ALL_PERMS - {"ban_members"},
        roles=frozenset(),
        channels={
            ALERTS: ChannelFacts(frozenset({"view_channel"}), everyone_can_view=True),
        },
        message_content_wanted=True,
        message_content_requested=True,
    )
    found = "\n".join(lines(settings, broken))
    assert "**Ban Members** permission" in found
    assert "facilitator role was deleted" in found
    assert "missing **Send Messages**, **Embed Links**" in found
    assert f"<#{ALERTS}> is visible to everyone" in found
    assert "mod log channel was deleted" in found
    assert "**Message Content** intent" in found
    assert all("Fix:" in line or "/setup" in line for line in lines(settings, broken))
    # Manage Events matters only once /setup events is on.
    no_events = replace(facts, bot_permissions=ALL_PERMS - {"manage_events"})
    assert lines(settings, no_events) == []
    assert "Manage Events" in "\n".join(lines(replace(settings, scheduled_events=True), no_events))
    # Mention Everyone is optional: named as such, with what changes without it.
    (line,) = lines(settings, replace(facts, bot_permissions=ALL_PERMS - {"mention_everyone"}))
    assert "private channel instead of a thread" in line and "Optional:" in line
