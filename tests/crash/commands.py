"""People using the bot while it is being killed: commands that change stored state.

A change counts as *acknowledged* once the fake Discord received the bot's answer saying it
was done (what the person saw). Every acknowledged change must be in the database at the
end; an unacknowledged one may or may not be.

Each person has at most one command in flight, so one person's changes are ordered: for a
setting, the stored value must be the last acknowledged one or one sent after it (which the
bot may have stored before it died without managing to answer).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

from tests.crash.store import CrashStore
from tests.crash.workload import Workload
from tests.support.fake_discord import FakeDiscord, InteractionHandle

TIMEZONES = (
    "America/Chicago",
    "America/Denver",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Tokyo",
    "Australia/Sydney",
)
FAQ_LIMIT = 400  # the FAQ holds 500 questions per server; stay clear of that refusal
SUCCESS = {
    "tz": "Saved: your time zone is",
    "faq": "Done. Anyone can now read the answer",
    "dm": "Done: ",
    "rsvp": "you're down as",
}


@dataclass
class Issued:
    kind: str
    user: int
    key: tuple[Any, ...]
    value: Any
    handle: InteractionHandle

    @property
    def acknowledged(self) -> bool:
        marker = SUCCESS[self.kind]
        for response in self.handle.responses:
            body = response["body"] or {}
            data = body.get("data", body) if response["kind"] == "callback" else body
            if marker in str((data or {}).get("content") or ""):
                return True
        return False


class CommandDriver:
    """Injects a command every few tens of milliseconds while the bot is connected."""

    def __init__(self, fake: FakeDiscord, work: Workload, rng: random.Random) -> None:
        self.fake = fake
        self.work = work
        self.rng = rng
        self.issued: list[Issued] = []
        self._busy: dict[int, Issued] = {}
        self._faq = 0
        self.undelivered = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="crash-commands")

    async def stop(self) -> None:
        """Stops injecting; a driver that died of its own error fails the test here."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        (outcome,) = await asyncio.gather(task, return_exceptions=True)
        if isinstance(outcome, Exception):
            raise AssertionError(f"the command driver failed: {outcome!r}") from outcome

    def abandon_in_flight(self) -> None:
        """The bot died: whatever it had not answered will never be answered."""
        self._busy.clear()

    def in_flight(self) -> int:
        self._release_answered()
        return len(self._busy)

    def _release_answered(self) -> None:
        for user, cmd in list(self._busy.items()):
            kinds = [r["kind"] for r in cmd.handle.responses]
            # A button press is answered by editing the card, then a private followup.
            answered = "followup" in kinds or (
                "callback" in kinds and (cmd.kind != "rsvp" or cmd.handle.response_type != 7)
            )
            if answered or cmd.acknowledged:
                del self._busy[user]

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.rng.uniform(0.01, 0.05))
            if not self.fake.connected:
                continue
            self._release_answered()
            try:
                await self._one()
            except ConnectionError:
                self.undelivered += 1  # the bot died while the event was on its way

    async def _one(self) -> None:
        work, rng = self.work, self.rng
        kind = rng.choice(("tz", "tz", "rsvp", "rsvp", "dm", "faq"))
        if kind == "faq" and self._faq >= FAQ_LIMIT:
            kind = "tz"
        if kind == "faq":
            user = work.admin
            if user in self._busy:
                return
            self._faq += 1
            question = f"Crash question {self._faq}: where do we meet?"
            handle = await self.fake.slash(
                work.guild_id,
                user,
                "faq",
                "add",
                options={"question": question, "answer": f"Answer {self._faq}."},
            )
            self._track(Issued(kind, user, ("faq", question), f"Answer {self._faq}.", handle))
        elif kind == "dm":
            user = rng.choice(work.loners)
            if user in self._busy:
                return
            on = rng.choice(("on", "off"))
            handle = await self.fake.slash(
                work.guild_id, user, "my", "reminders", options={"dm": on}
            )
            self._track(Issued(kind, user, ("dm", user), int(on == "on"), handle))
        elif kind == "tz":
            user = rng.choice([u for g in work.groups for u in g.members] + work.loners)
            if user in self._busy:
                return
            tz = rng.choice(TIMEZONES)
            handle = await self.fake.slash(
                work.guild_id, user, "my", "timezone", options={"tz": tz}
            )
            self._track(Issued(kind, user, ("tz", user), tz, handle))
        else:
            await self._rsvp()

    async def _rsvp(self) -> None:
        """Press Going / Maybe / Can't make it on a reminder a group channel received."""
        work, rng = self.work, self.rng
        group = rng.choice(work.groups)
        cards = [
            m
            for m in self.fake.messages_in(group.channel_id)
            if m.get("components") and m["components"][0].get("components")
        ]
        if not cards or not group.members:
            return
        card = rng.choice(cards)
        user = rng.choice(group.members)
        if user in self._busy:
            return
        button = rng.choice(card["components"][0]["components"])
        custom_id = str(button["custom_id"])
        _, _, series, key, response, *_ = custom_id.split(":")
        handle = await self.fake.click(
            work.guild_id, user, custom_id, message_id=int(card["id"]), channel_id=group.channel_id
        )
        self._track(Issued("rsvp", user, ("rsvp", user, int(series), key), response, handle))

    def _track(self, cmd: Issued) -> None:
        self.issued.append(cmd)
        self._busy[cmd.user] = cmd

    # --- the check ------------------------------------------------------------------------
    async def verify(self, store: CrashStore) -> tuple[int, list[str]]:
        """(acknowledged changes, problems): each acknowledged change must be stored."""
        by_key: dict[tuple[Any, ...], list[Issued]] = {}
        for cmd in self.issued:
            by_key.setdefault(cmd.key, []).append(cmd)
        problems: list[str] = []
        acked = 0
        for key, cmds in by_key.items():
            last = max((i for i, c in enumerate(cmds) if c.acknowledged), default=None)
            acked += sum(c.acknowledged for c in cmds)
            if last is None:
                continue
            allowed = {c.value for c in cmds[last:]}
            stored = await _stored(store, key)
            if stored not in allowed:
                problems.append(f"{key}: stored {stored!r}, acknowledged {cmds[last].value!r}")
        return acked, problems


async def _stored(store: CrashStore, key: tuple[Any, ...]) -> Any:
    kind = key[0]
    if kind == "tz":
        sql, params = "SELECT timezone FROM member_prefs WHERE user_id = ?", key[1:]
    elif kind == "dm":
        sql, params = "SELECT dm_reminders FROM member_prefs WHERE user_id = ?", key[1:]
    elif kind == "faq":
        sql, params = "SELECT answer FROM faq WHERE question = ?", key[1:]
    else:
        sql = (
            "SELECT response FROM rsvps WHERE user_id = ? AND series_id = ? AND occurrence_key = ?"
        )
        params = key[1:]
    rows = await store.rows(sql, params)
    return rows[0][0] if rows else None
