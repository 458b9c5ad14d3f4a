"""Starting, killing and stopping the bot's child process from the test."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from pathlib import Path

from tests.support.fake_discord import FakeDiscord

REPO_ROOT = Path(__file__).resolve().parents[2]


class ChildFailed(AssertionError):
    pass


class ChildBot:
    """One `python -m tests.crash.child` at a time; stderr of each run kept in its own file."""

    def __init__(self, fake: FakeDiscord, tmp: Path, env: dict[str, str]) -> None:
        self.fake = fake
        self.tmp = tmp
        self.env = env
        self.runs = 0
        self.proc: asyncio.subprocess.Process | None = None
        self.log_path: Path | None = None
        #: Each run ended so far: its log file and when it ended (Unix time).
        self.ended: list[tuple[Path, float]] = []

    def _end(self) -> None:
        if self.log_path is not None:
            self.ended.append((self.log_path, time.time()))

    async def spawn(self) -> None:
        assert self.proc is None, "a child is already running"
        self.runs += 1
        self.log_path = self.tmp / f"child-{self.runs:03d}.log"
        env = {
            **os.environ,
            **self.env,
            "CRASH_API_BASE": self.fake.base_url,
            "CRASH_GATEWAY_URL": self.fake.gateway_url,
            "PYTHONUNBUFFERED": "1",
        }
        with self.log_path.open("wb") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.crash.child",
                cwd=REPO_ROOT,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )

    def tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no child output)"
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def check_alive(self) -> None:
        """A child that exits on its own (crash on start, traceback) fails the test."""
        if self.proc is not None and self.proc.returncode is not None:
            code = self.proc.returncode
            self.proc = None
            raise ChildFailed(f"the bot exited on its own with {code}:\n{self.tail()}")

    async def kill(self) -> None:
        """SIGKILL: no cleanup, no flush, nothing after this line runs in the child."""
        proc = self.proc
        assert proc is not None
        self.check_alive()
        os.kill(proc.pid, signal.SIGKILL)
        await proc.wait()
        self._end()
        self.proc = None
        if proc.returncode != -signal.SIGKILL:
            raise ChildFailed(
                f"the bot exited with {proc.returncode} before the kill:\n{self.tail()}"
            )

    async def stop(self, timeout: float = 20.0) -> None:  # noqa: ASYNC109
        """SIGTERM and a clean exit (status 0), as `familybot run` does on shutdown."""
        proc = self.proc
        assert proc is not None
        self.check_alive()
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), timeout)
            self._end()
        except TimeoutError:
            # Where it hangs: every thread's stack into its log (child.py's faulthandler).
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGUSR1)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 1.0)
            raise ChildFailed(
                f"the bot did not stop within {timeout}s:\n{self.tail(150)}"
            ) from None
        finally:
            self.proc = None
        if proc.returncode != 0:
            raise ChildFailed(f"the bot stopped with {proc.returncode}:\n{self.tail()}")

    async def ensure_dead(self) -> None:
        """For `finally`: never leave an orphan behind, whatever went wrong."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            await proc.wait()
