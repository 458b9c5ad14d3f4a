"""Typed settings from the environment and `.env`: the only reader of the environment."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from familybot.errors import ConfigError
from familybot.logging_setup import LOG_FORMATS

# A bot token is three base64url parts joined by dots; the first is the bot's user id.
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}$")

TOKEN_HELP = """\
FamilyBot needs a Discord bot token to connect, and {problem}.
To get one: open https://discord.com/developers/applications, choose "New Application",
give it a name (for example "FamilyBot"), open the "Bot" page, press "Reset Token" and
copy the token. Then create a file named .env in the folder you run FamilyBot from
(copy .env.example to start) and put the token on a line of its own:
    DISCORD_TOKEN=paste-your-token-here
Keep this token secret: anyone who has it can act as your bot. Afterwards, run
`familybot check` to get the link that invites the bot to your server."""

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class Settings:
    """Everything FamilyBot reads from its environment. See .env.example for each meaning."""

    discord_token: str | None
    database_path: Path
    dev_guild_id: int | None
    log_level: str
    default_timezone: str
    backup_dir: Path
    message_content_intent: bool
    backup_key: str | None = None
    backup_keep: int = 7
    backup_hour_utc: int = 3
    # Privacy (README "Privacy"): RSVPs and attendance are kept this many days.
    retention_days: int = 180
    ledger_keep_days: int = 14
    # The privileged Server Members intent: notice members leaving at once (else: daily check).
    members_intent: bool = False
    # Sharding (README "Scale-out"): None means one process runs everything.
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    log_format: str = "text"  # or "json": one JSON object per line
    # Live calendar links (README "Live calendar links"): off unless enabled.
    calendar_feed_enabled: bool = False
    calendar_feed_host: str = "127.0.0.1"
    calendar_feed_port: int = 8765
    calendar_feed_base_url: str | None = None  # required when enabled
    # PostgreSQL instead of the SQLite file at database_path (README "Scale-out").
    database_url: str | None = None

    @property
    def database_target(self) -> Path | str:
        """What Database.connect opens: the PostgreSQL URL if set, else the SQLite file."""
        return self.database_url or self.database_path

    def require_token(self) -> str:
        """Return the token, or raise ConfigError explaining how to get one."""
        token = self.discord_token
        if not token:
            raise ConfigError(TOKEN_HELP.format(problem="DISCORD_TOKEN is not set"))
        if not _TOKEN_RE.match(token):
            raise ConfigError(
                TOKEN_HELP.format(
                    problem="the DISCORD_TOKEN that is set does not look like a bot token "
                    "(it should be three parts separated by dots, with no spaces or quotes)"
                )
            )
        return token


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} should be true or false, not {raw!r}.")


_HOST_RE = re.compile(r"^[A-Za-z0-9.:_\-\[\]%]+$")
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]"}


def _parse_base_url(raw: str) -> str:
    """The public address calendar links start with: https (http only for this machine)."""
    parts = urlsplit(raw)
    problem = None
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        problem = (
            "should be the public address of the calendar feed, like https://calendar.example.org"
        )
    elif parts.scheme == "http" and parts.hostname not in {h.strip("[]") for h in _LOCAL_HOSTS}:
        problem = (
            "must start with https:// (calendar links are private: put the feed behind a "
            "reverse proxy with TLS, see README 'Live calendar links')"
        )
    elif parts.query or parts.fragment or parts.username or parts.password:
        problem = "should be a plain address, without ?query, #fragment or user:password@"
    if problem:
        raise ConfigError(f"CALENDAR_FEED_BASE_URL {problem}, not {raw!r}.")
    return raw.rstrip("/")


def _parse_database_url(raw: str) -> str:
    """DATABASE_URL: a postgresql:// address (user, password, host, port, database name)."""
    parts = urlsplit(raw)
    if parts.scheme not in {"postgresql", "postgres"} or not parts.path.strip("/"):
        raise ConfigError(
            "DATABASE_URL should be a PostgreSQL address such as "
            "postgresql://familybot:password@db.example.org:5432/familybot, "
            "or be left empty to use the SQLite file at DATABASE_PATH."
        )
    return raw


def _parse_int(name: str, raw: str, low: int, high: int, meaning: str) -> int:
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ConfigError(f"{name} is {meaning}: a whole number from {low} to {high}, not {raw!r}.")
    return int(raw)


MAX_SHARDS = 4096


def _parse_shards(count_raw: str, ids_raw: str) -> tuple[int | None, tuple[int, ...] | None]:
    """SHARD_COUNT (how many shards in all) and SHARD_IDS (the ones this process runs)."""
    if not count_raw:
        if ids_raw:
            raise ConfigError(
                "SHARD_IDS is set but SHARD_COUNT is not. Set SHARD_COUNT to the total number "
                "of shards across all processes, or leave both empty to run one process."
            )
        return None, None
    count = _parse_int("SHARD_COUNT", count_raw, 1, MAX_SHARDS, "the total number of shards")
    if not ids_raw:
        return count, None
    parts = [p.strip() for p in ids_raw.split(",") if p.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        raise ConfigError(
            f"SHARD_IDS should be this process's shard numbers separated by commas "
            f"(for example 0,1), not {ids_raw!r}."
        )
    ids = tuple(int(p) for p in parts)
    outside = [i for i in ids if i >= count]
    if outside:
        raise ConfigError(
            f"SHARD_IDS has {outside[0]}, but with SHARD_COUNT={count} shards are numbered "
            f"0 to {count - 1}."
        )
    if len(set(ids)) != len(ids):
        raise ConfigError(f"SHARD_IDS lists a shard more than once: {ids_raw!r}.")
    return count, tuple(sorted(ids))


def load_settings(env_file: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read settings: real environment variables win over values in the .env file."""
    file_values: dict[str, str] = {}
    path = env_file if env_file is not None else Path.cwd() / ".env"
    if path.is_file():
        file_values = {k: v for k, v in dotenv_values(path).items() if v is not None}
    merged = {**file_values, **(environ if environ is not None else dict(os.environ))}

    def get(name: str, default: str = "") -> str:
        return merged.get(name, default).strip()

    token = get("DISCORD_TOKEN") or None

    dev_guild_raw = get("DEV_GUILD_ID")
    dev_guild_id: int | None = None
    if dev_guild_raw:
        if not dev_guild_raw.isdigit():
            raise ConfigError(
                f"DEV_GUILD_ID should be a server id (a long number), not {dev_guild_raw!r}. "
                "In Discord, turn on Developer Mode, right-click your server and "
                "choose 'Copy Server ID'."
            )
        dev_guild_id = int(dev_guild_raw)

    log_level = get("LOG_LEVEL", "INFO").upper() or "INFO"
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL should be one of {', '.join(LOG_LEVELS)}, not {log_level!r}.")
    log_format = get("LOG_FORMAT", "text").lower() or "text"
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT should be text or json, not {log_format!r}.")

    tz = get("DEFAULT_TIMEZONE", "UTC") or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"DEFAULT_TIMEZONE should be an IANA time zone name such as "
            f"America/New_York or Europe/London, not {tz!r}."
        ) from exc

    backup_key = get("BACKUP_KEY") or None
    if backup_key:
        from familybot.backup import validate_key

        try:
            validate_key(backup_key)
        except ValueError as exc:
            raise ConfigError(
                "BACKUP_KEY should be a key made by `familybot backup --new-key` (44 letters, "
                "digits, '-' or '_', ending in '='), not what is set now. Leave it empty to "
                "write unencrypted backups."
            ) from exc
    backup_keep = _parse_int(
        "BACKUP_KEEP", get("BACKUP_KEEP", "7") or "7", 1, 3650, "how many daily backups to keep"
    )
    backup_hour = _parse_int(
        "BACKUP_HOUR_UTC",
        get("BACKUP_HOUR_UTC", "3") or "3",
        0,
        23,
        "the hour (UTC) of the daily backup",
    )

    shard_count, shard_ids = _parse_shards(get("SHARD_COUNT"), get("SHARD_IDS"))
    retention_days = _parse_int(
        "RETENTION_DAYS",
        get("RETENTION_DAYS", "180") or "180",
        1,
        3650,
        "how many days RSVPs and attendance are kept",
    )

    ledger_keep_days = _parse_int(
        "REMINDER_LEDGER_KEEP_DAYS",
        get("REMINDER_LEDGER_KEEP_DAYS", "14") or "14",
        2,
        3650,
        "how many days the record of reminders sent is kept after their session",
    )

    feed_enabled = _parse_bool("CALENDAR_FEED_ENABLED", get("CALENDAR_FEED_ENABLED", "false"))
    feed_host = get("CALENDAR_FEED_HOST", "127.0.0.1") or "127.0.0.1"
    if not _HOST_RE.match(feed_host):
        raise ConfigError(
            f"CALENDAR_FEED_HOST should be an address to listen on, such as 127.0.0.1 or 0.0.0.0, "
            f"not {feed_host!r}."
        )
    feed_port = _parse_int(
        "CALENDAR_FEED_PORT",
        get("CALENDAR_FEED_PORT", "8765") or "8765",
        0,
        65535,
        "the port the calendar feed listens on (0: any free port)",
    )
    feed_base_raw = get("CALENDAR_FEED_BASE_URL")
    feed_base_url = _parse_base_url(feed_base_raw) if feed_base_raw else None
    if feed_enabled and feed_base_url is None:
        raise ConfigError(
            "CALENDAR_FEED_ENABLED is true but CALENDAR_FEED_BASE_URL is not set: set it to the "
            "public https address of the feed (e.g. https://calendar.example.org)."
        )

    database_url = _parse_database_url(get("DATABASE_URL")) if get("DATABASE_URL") else None

    return Settings(
        discord_token=token,
        database_path=Path(get("DATABASE_PATH", "data/familybot.db") or "data/familybot.db"),
        dev_guild_id=dev_guild_id,
        log_level=log_level,
        default_timezone=tz,
        backup_dir=Path(get("BACKUP_DIR", "backups") or "backups"),
        message_content_intent=_parse_bool(
            "MESSAGE_CONTENT_INTENT", get("MESSAGE_CONTENT_INTENT", "false")
        ),
        backup_key=backup_key,
        backup_keep=backup_keep,
        backup_hour_utc=backup_hour,
        retention_days=retention_days,
        ledger_keep_days=ledger_keep_days,
        members_intent=_parse_bool("MEMBERS_INTENT", get("MEMBERS_INTENT", "false")),
        shard_count=shard_count,
        shard_ids=shard_ids,
        log_format=log_format,
        calendar_feed_enabled=feed_enabled,
        calendar_feed_host=feed_host,
        calendar_feed_port=feed_port,
        calendar_feed_base_url=feed_base_url,
        database_url=database_url,
    )
