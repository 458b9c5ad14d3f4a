"""Issue 10, item 7: what a new self-hoster meets on the first day.

- `familybot run` without a network: one log line per try, no traceback, and a retry
  schedule of 5 s doubling to a 5-minute cap, with the time of the next try in the line.
  Discord's address points at a local port nobody listens on; time is a FakeClock and the
  wait is a recording fake, so no test sleeps.
- An invalid token still stops at once.
- No "voice will NOT be supported" warnings on start.
- `familybot backup DIR/` writes a time-stamped file inside DIR.
- The systemd unit starts on a fresh install (its writable folders are created first).
- Every subcommand's --help has a description.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import os
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import pytest

from familybot import cli
from familybot.cli import main as cli_main
from familybot.cli import run as cli_run
from familybot.config import load_settings
from familybot.logging_setup import NEVER_DEBUG, configure_logging
from tests.support.fake_discord import FakeDiscord, point_discord_py_at
from tests.support.fakes import FakeClock
from tests.test_cli import GOOD_TOKEN, familybot

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The real log formatter writing into a buffer; process-wide logging put back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    names = (*NEVER_DEBUG, "apscheduler")
    levels = {name: logging.getLogger(name).level for name in names}
    out = io.StringIO()
    configure_logging("INFO", stream=out)
    yield out
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


@pytest.fixture
def unreachable_discord() -> Iterator[int]:
    """Discord's REST address points at a local port that refuses connections."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    old = discord.http.Route.BASE
    discord.http.Route.BASE = f"http://127.0.0.1:{port}/api/v10"
    try:
        yield port
    finally:
        discord.http.Route.BASE = old


async def until(condition: object, what: str) -> None:
    """Let the event loop run until condition() holds (a signal handler, a log line)."""
    for _ in range(20_000):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never happened: {what}")


async def test_run_without_network_logs_one_line_per_try_and_backs_off(
    tmp_path: Path, unreachable_discord: int, log_lines: io.StringIO
) -> None:
    settings = load_settings(
        tmp_path / "none.env",
        environ={"DISCORD_TOKEN": GOOD_TOKEN, "DATABASE_PATH": str(tmp_path / "fb.db")},
    )
    clock = FakeClock(datetime(2026, 12, 1, 23, 0, 0, tzinfo=UTC))
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds=seconds)
        if len(waits) == 9:  # enough to see the cap; then the admin presses Ctrl-C
            os.kill(os.getpid(), signal.SIGINT)
            await until(lambda: "received SIGINT" in log_lines.getvalue(), "SIGINT handled")

    code = await asyncio.wait_for(
        cli_run._run(settings, GOOD_TOKEN, clock=clock, sleep=fake_sleep), timeout=60
    )
    assert code == 0
    assert waits == [5, 10, 20, 40, 80, 160, 300, 300, 300]
    lines = log_lines.getvalue().splitlines()
    assert not [line for line in lines if "Traceback" in line or "\\n" in line]
    retries = [line for line in lines if "Cannot reach Discord" in line]
    assert len(retries) == 9
    expected_next = [
        ("5 s", "23:00:05"),
        ("10 s", "23:00:15"),
        ("20 s", "23:00:35"),
        ("40 s", "23:01:15"),
        ("80 s", "23:02:35"),
        ("160 s", "23:05:15"),
        ("5 min", "23:10:15"),
        ("5 min", "23:15:15"),
        ("5 min", "23:20:15"),
    ]
    for attempt, (line, (wait, at)) in enumerate(zip(retries, expected_next, strict=True), 1):
        assert " WARNING familybot: " in line
        assert (
            f"Cannot reach Discord: cannot connect to 127.0.0.1:{unreachable_discord} "
            f"(Connection refused). Check this machine's network; trying again in {wait}, "
            f"at 2026-12-01 {at} UTC. attempt={attempt}"
        ) in line
    # Nothing was half started: no database was created by a failed login.
    assert not (tmp_path / "fb.db").exists()


async def test_ctrl_c_during_the_wait_stops_at_once(
    tmp_path: Path, unreachable_discord: int, log_lines: io.StringIO
) -> None:
    settings = load_settings(
        tmp_path / "none.env",
        environ={"DISCORD_TOKEN": GOOD_TOKEN, "DATABASE_PATH": str(tmp_path / "fb.db")},
    )
    run = asyncio.create_task(cli_run._run(settings, GOOD_TOKEN))  # the real 5 s wait
    await until(lambda: "trying again in 5 s" in log_lines.getvalue(), "first retry line")
    os.kill(os.getpid(), signal.SIGTERM)
    # Well before the 5 s were up.
    assert await asyncio.wait_for(run, timeout=3) == 0
    assert "stopped cleanly" in log_lines.getvalue()


async def test_invalid_token_still_stops_at_once_without_retrying(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeDiscord()
    await fake.start()
    undo = point_discord_py_at(fake)
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    try:
        settings = load_settings(
            tmp_path / "none.env",
            environ={"DISCORD_TOKEN": GOOD_TOKEN, "DATABASE_PATH": str(tmp_path / "fb.db")},
        )
        code = await asyncio.wait_for(
            cli_run._run(settings, GOOD_TOKEN, sleep=fake_sleep), timeout=20
        )
    finally:
        undo()
        await fake.stop()
    assert code == cli.EXIT_CONFIG and waits == []
    err = capsys.readouterr().err
    assert "Discord did not accept the DISCORD_TOKEN" in err and "Traceback" not in err


def test_start_has_no_voice_warnings(tmp_path: Path) -> None:
    # A fresh process, as `familybot run` starts: discord.py warns once per process.
    script = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.INFO, stream=sys.stderr)\n"
        "from pathlib import Path\n"
        "from familybot.bot import FamilyBot\n"
        "from familybot.config import load_settings\n"
        f"FamilyBot(load_settings(Path('none.env'), environ={{'DISCORD_TOKEN': {GOOD_TOKEN!r}}}))\n"
        "logging.getLogger('discord.client').warning('other warnings still show')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "voice will NOT be supported" not in result.stderr
    assert "other warnings still show" in result.stderr


def test_backup_into_a_new_folder_with_trailing_slash(tmp_path: Path) -> None:
    env = {"DATABASE_PATH": "fb.db"}
    assert familybot(tmp_path, "migrate", env=env).returncode == 0
    result = familybot(tmp_path, "backup", "new/dir/", env=env)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "new" / "dir"
    assert folder.is_dir()
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == 2 and names[0].startswith("familybot-") and names[0].endswith(".db")
    assert names[1] == f"{names[0]}.sha256"
    # An existing folder without the slash means the same.
    again = familybot(tmp_path, "backup", "new", env=env)
    assert again.returncode == 0 and (tmp_path / "new").is_dir()
    assert any(p.name.startswith("familybot-") for p in (tmp_path / "new").iterdir())
    # Anything else is the file itself.
    plain = familybot(tmp_path, "backup", "new/copy.db", env=env)
    assert plain.returncode == 0 and (tmp_path / "new" / "copy.db").is_file()


def unit_directives(text: str) -> dict[str, list[str]]:
    """systemd's own reading: [Service] keys, in order, repeated keys kept."""
    found: dict[str, list[str]] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]":
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_systemd_unit_creates_its_writable_folders_before_start() -> None:
    unit = unit_directives((ROOT / "deploy" / "familybot.service").read_text())
    user, group = unit["User"][0], unit["Group"][0]
    workdir = Path(unit["WorkingDirectory"][0])
    assert unit["UMask"] == ["0077"] and unit["ProtectSystem"] == ["strict"]
    writable = [p for value in unit["ReadWritePaths"] for p in value.split()]
    # The folders FamilyBot writes by default (relative to WorkingDirectory) are writable.
    defaults = load_settings(Path("/nonexistent.env"), environ={})
    assert str(workdir / defaults.database_path.parent) in writable
    assert str(workdir / defaults.backup_dir) in writable
    # systemd refuses to start when a ReadWritePaths folder is missing, unless it is made
    # first: by an ExecStartPre running outside the sandbox ("+"), owned by the bot, 0700.
    made: set[str] = set()
    for command in unit.get("ExecStartPre", []):
        assert command.startswith("+"), command
        argv = shlex.split(command[1:])
        assert argv[0] == "/usr/bin/install" and "-d" in argv
        parsed = argparse.ArgumentParser(add_help=False)
        parsed.add_argument("-d", action="store_true")
        parsed.add_argument("-m")
        parsed.add_argument("-o")
        parsed.add_argument("-g")
        parsed.add_argument("paths", nargs="+")
        args = parsed.parse_args(argv[1:])
        assert (args.m, args.o, args.g) == ("0700", user, group)
        made.update(args.paths)
    for path in writable:
        assert path.startswith("-") or path in made, f"{path} may not exist on a fresh install"


def subcommand_parsers(
    parser: argparse.ArgumentParser, prefix: str = ""
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield f"{prefix}{name}", child
                yield from subcommand_parsers(child, f"{prefix}{name} ")


def test_every_subcommand_help_has_a_description() -> None:
    found = dict(subcommand_parsers(cli_main.build_parser()))
    assert {"run", "check", "migrate", "backup", "restore", "resources import"} <= set(found)
    for name, parser in found.items():
        assert parser.description and len(parser.description) > 40, name
        assert parser.description.split("\n")[0] in parser.format_help(), name


@pytest.mark.parametrize("command", ["run", "check", "migrate"])
def test_help_of_run_check_migrate_says_what_they_do(tmp_path: Path, command: str) -> None:
    result = familybot(tmp_path, command, "--help")
    assert result.returncode == 0
    usage, _, rest = result.stdout.partition("\n\n")
    description = rest.split("\n\n")[0]
    assert usage.startswith(f"usage: familybot {command}")
    assert not description.startswith("options:") and len(description) > 60


def test_systemd_does_not_restart_a_configuration_error_forever() -> None:
    """`familybot run` exits EXIT_CONFIG for a wrong token or bad settings: restarting every
    5 s can't fix that (and would try to log in forever), so the unit stops there."""
    unit = unit_directives((ROOT / "deploy" / "familybot.service").read_text())
    assert unit["Restart"] == ["on-failure"]
    assert str(cli.EXIT_CONFIG) in unit["RestartPreventExitStatus"][0].split()


async def run_on_fake(
    tmp_path: Path,
    *,
    environ: dict[str, str] | None = None,
    timeout: float = 20,  # noqa: ASYNC109
    **run: Any,
) -> int:
    """`familybot run` (cli_run._run, with `run`'s extra arguments) against a fresh fake
    Discord; the database is SQLite in tmp_path unless `environ` names another."""
    fake = FakeDiscord()
    await fake.start()
    undo = point_discord_py_at(fake)
    try:
        env = {
            "DISCORD_TOKEN": fake.token,
            **(environ or {"DATABASE_PATH": str(tmp_path / "fb.db")}),
        }
        settings = load_settings(tmp_path / "none.env", environ=env)
        return await asyncio.wait_for(cli_run._run(settings, fake.token, **run), timeout=timeout)
    finally:
        undo()
        await fake.stop()


async def _sigterm_during_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, hang: bool
) -> int:
    """`familybot run` against the fake Discord, with SIGTERM arriving while start-up is
    migrating the database; the migration either goes on (the usual case) or hangs."""
    from familybot.db.migrate import migrate as real_migrate

    async def migrate_after_sigterm(db: object) -> object:
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.sleep(0.05)  # the signal handler has run: the bot is closing
        if hang:
            await asyncio.Event().wait()
        return await real_migrate(db)  # type: ignore[arg-type]

    monkeypatch.setattr("familybot.bot.migrate", migrate_after_sigterm)
    code = await run_on_fake(tmp_path)
    return code


async def test_sigterm_while_starting_lets_start_up_finish_then_stops_cleanly(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    log_lines: io.StringIO,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Once, start-up went on with the database closed under it: "the database cannot be
    # reached" and exit status 2, for a service that was only asked to stop.
    code = await _sigterm_during_start_up(tmp_path, monkeypatch, hang=False)
    err = capsys.readouterr().err
    assert code == 0, err
    assert "cannot be reached" not in err and "Traceback" not in err
    logged = log_lines.getvalue()
    assert "stop asked for during start-up" in logged and "stopped cleanly" in logged
    # All of the close ran before the process would exit (once, asyncio.run cancelled its
    # end: the database left open, an aiosqlite thread kept the process from exiting).
    assert logged.index("database closed") < logged.index("stopped cleanly")
    assert "Traceback" not in logged and " ERROR " not in logged
    # Start-up finished: the database is whole and at the latest version.
    from familybot.db.connection import Database
    from familybot.db.migrate import migrate

    db = await Database.connect(str(tmp_path / "fb.db"))
    try:
        assert await migrate(db) == []
    finally:
        await db.close()


async def test_sigterm_while_start_up_hangs_cancels_it_and_stops_cleanly(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    log_lines: io.StringIO,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import familybot.starting

    monkeypatch.setattr(familybot.starting, "FINISH_TIMEOUT", 0.2)
    code = await _sigterm_during_start_up(tmp_path, monkeypatch, hang=True)
    err = capsys.readouterr().err
    assert code == 0, err
    assert "Traceback" not in err
    logged = log_lines.getvalue()
    assert "start-up stopped part-way" in logged and "stopped cleanly" in logged


async def test_postgresql_down_at_start_is_waited_for_not_a_configuration_error(
    tmp_path: Path, log_lines: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    """A host that boots before its PostgreSQL (or starts during a failover) once exited with
    status 2, which systemd's RestartPreventExitStatus=2 then never restarted: the bot stayed
    down for good. Now it says so in one line per try and waits, as for the network."""
    with socket.socket() as probe:  # a port nobody listens on: the server is down
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:  # the operator stops it while it waits
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.sleep(0.05)

    url = f"postgresql://postgres@127.0.0.1:{port}/familybot"
    code = await run_on_fake(
        tmp_path, environ={"DATABASE_URL": url}, timeout=60, clock=FakeClock(), sleep=fake_sleep
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert waits == [5.0, 10.0, 20.0]
    retries = [line for line in log_lines.getvalue().splitlines() if "trying again" in line]
    assert len(retries) == 3
    assert (
        f"Cannot open the PostgreSQL database at postgresql://postgres@127.0.0.1:{port}/"
        in (retries[0])
    )
    assert (
        "Check that PostgreSQL is running and DATABASE_URL in .env; trying again in 5 s"
        in (retries[0])
    )
    assert "Traceback" not in err and "Traceback" not in log_lines.getvalue()


async def test_sigterm_while_looking_up_the_gateway_stops_cleanly(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    log_lines: io.StringIO,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """After start-up, discord.py asks Discord for the Gateway's address; a stop then closed
    the HTTP session under that request, and the bot exited with status 1 ("Connector is
    closed"): seen in the failover crash test."""
    real = discord.http.HTTPClient.get_bot_gateway

    async def gateway_after_sigterm(self: discord.http.HTTPClient) -> Any:
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.sleep(0.2)  # the signal handler has closed the bot and its session
        return await real(self)

    monkeypatch.setattr(discord.http.HTTPClient, "get_bot_gateway", gateway_after_sigterm)
    code = await run_on_fake(tmp_path)
    err = capsys.readouterr().err
    assert code == 0, err
    assert "Traceback" not in err and "Traceback" not in log_lines.getvalue()
    assert "stopped cleanly" in log_lines.getvalue()


async def test_an_error_of_discord_py_after_ready_is_still_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log_lines: io.StringIO
) -> None:
    """discord.py closes the client itself before raising an unexpected Gateway error; only
    a stop someone asked for makes a closed session's error a clean stop. This one must end
    the process as a failure (exit 1, so systemd restarts it), not as "stopped cleanly"."""
    real = discord.gateway.DiscordWebSocket.poll_event
    ready = asyncio.Event()

    async def poll_then_fail(self: discord.gateway.DiscordWebSocket) -> None:
        # The next Gateway event, unless the bot becomes ready first: then the error.
        poll, became = asyncio.ensure_future(real(self)), asyncio.ensure_future(ready.wait())
        await asyncio.wait({poll, became}, return_when=asyncio.FIRST_COMPLETED)
        if poll.done():
            became.cancel()
            return poll.result()
        poll.cancel()
        raise RuntimeError("something discord.py did not expect")

    class ReadyLine(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("ready user="):
                ready.set()

    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "poll_event", poll_then_fail)
    watcher = ReadyLine()
    logging.getLogger("familybot.bot").addHandler(watcher)
    try:
        with pytest.raises(RuntimeError, match="did not expect"):
            await run_on_fake(tmp_path, timeout=30)
    finally:
        logging.getLogger("familybot.bot").removeHandler(watcher)
    assert ready.is_set()
    assert "stopped cleanly" not in log_lines.getvalue()
