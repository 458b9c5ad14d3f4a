"""Work that makes later moments faster but that start-up itself does not need (issue 15:
ready in under a second, also right after a reboot).

Two things used to be built in worker threads while the bot started, and start-up waited
for one of them: the safety watch's phrase list (hundreds of patterns, about 0.2 s of CPU)
and Babel's date names (its CLDR data, and on hosts with pytz installed every zone file
opened once: ~600 disk reads after a reboot). Python runs one thread at a time, so a
worker's CPU time is taken from the loop's: start-up took longer by about as much (and,
begun at the end of setup_hook, they slowed the log-in and the Gateway's handshake
instead). Now both begin once the bot is ready. A message that reaches the watch before
then starts the build itself and waits for it in its worker thread (the watch reads
messages off the loop), never on the event loop.

matplotlib is not warmed here: it adds about 50 MB to every process, whether or not anyone
asks for a chart, so the first /group stats after a start imports it (about 0.65 s, after
its "thinking..." deferral; services/groups/stats_chart.py).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable

from familybot import gc_quiet, i18n
from familybot.services.safety.model import bot_detector
from familybot.services.safety.watch import Detector

log = logging.getLogger(__name__)


class PendingDetector:
    """The safety watch's detector, built in a thread of its own when first asked for
    (`build()`, or the first message): a `Detector` whose answers wait for it."""

    def __init__(self, make: Callable[[], Detector] | None = None) -> None:
        self._make = make  # None: the bot's (bot_detector)
        self.built: concurrent.futures.Future[Detector] = concurrent.futures.Future()
        self._lock = threading.Lock()
        self._started = False

    def build(self) -> None:
        """Start building (once); returns at once."""
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._run, name="safety-phrases", daemon=True).start()

    def _run(self) -> None:
        if not self.built.set_running_or_notify_cancel():
            return
        try:
            self.built.set_result((self._make or bot_detector)())
        except Exception as error:  # each message then fails the same way, logged by the watch
            log.exception("the safety watch's phrase list could not be built")
            self.built.set_exception(error)

    def detector(self) -> Detector:
        """The built detector (waits for it: call from a worker thread, not the loop)."""
        self.build()
        return self.built.result()

    @property
    def name(self) -> str:
        return self.detector().name

    def matches(self, text: str) -> bool:
        return self.detector().matches(text)


class WarmUp:
    """Started once the bot is ready (on_ready, once); nothing before ready waits for it. Like
    start-up, it runs with the garbage collector off (familybot/gc_quiet.py): what it
    builds lives as long as the process and is frozen with start-up's objects after it."""

    def __init__(self) -> None:
        self.phrases = PendingDetector()
        self._task: asyncio.Task[None] | None = None
        self._begun = asyncio.Event()

    def start(self) -> None:
        if self._task is None:
            gc_quiet.hold()
            self.phrases.build()
            self._task = asyncio.create_task(self._finish(), name="familybot-warm-up")
            self._begun.set()

    async def wait(self) -> None:
        """Until the warm-up has begun (on_ready may run a moment after the ready event
        that `wait_until_ready` waits for) and is over. For tests and the bench."""
        await self._begun.wait()
        assert self._task is not None
        await asyncio.shield(self._task)

    async def stop(self) -> None:
        """On close: stop waiting for what is still building (the build itself goes on in its
        worker), so the collector's hold is released now, not never (a closed event loop drops
        a pending task without running its `finally`)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.wait({self._task})

    async def _finish(self) -> None:
        try:
            # Babel's date names: the first date in words then costs no interaction.
            await asyncio.gather(
                # Shielded: the bot closing stops waiting for the phrases, not their build.
                asyncio.shield(asyncio.wrap_future(self.phrases.built)),
                asyncio.to_thread(i18n.warm_dates),
                return_exceptions=True,  # a failed phrase list is logged where it is built
            )
        finally:
            gc_quiet.release()
