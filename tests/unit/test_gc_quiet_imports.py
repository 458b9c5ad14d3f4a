"""`familybot run` imports the bot with the garbage collector off (issue 15: start-up):
importing makes ~100k objects that live as long as the process, and collections set off
meanwhile walked them again and again (about 30 ms of CPU, one full collection among them).
After the imports they are frozen out of later collections and the collector is back on."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

import pytest

SCRIPT = """
import gc, json, sys
seen = []
gc.callbacks.append(lambda phase, info: phase == "start" and seen.append(info["generation"]))
from familybot.gc_quiet import quiet_imports
seen.clear()  # from here: the bot's imports
if sys.argv[1] == "quiet":
    with quiet_imports():
        import familybot.bot
else:
    import familybot.bot
print(json.dumps({"collections": seen, "enabled": gc.isenabled(),
                  "frozen": gc.get_freeze_count()}))
"""


def _import(how: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, how], capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_the_bot_imports_without_collections_then_frozen_and_collector_on() -> None:
    plain = _import("plain")
    assert plain["collections"], "a plain import does collect (else this test shows nothing)"

    quiet = _import("quiet")

    assert quiet["collections"] == []
    assert quiet["enabled"] is True
    assert isinstance(quiet["frozen"], int) and quiet["frozen"] > 50_000


def test_familybot_run_imports_the_bot_quietly() -> None:
    import inspect

    from familybot.cli import run

    source = inspect.getsource(run._run)
    assert source.index("with quiet_imports():") < source.index("from familybot.bot import")


def test_what_the_warm_up_builds_is_frozen_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start-up's hold is released (and frozen) before the warm-up begins, once ready; what
    the warm-up builds was then never frozen, though it lives as long as the process."""
    from familybot import gc_quiet

    monkeypatch.setattr(gc_quiet, "_freezes_left", 2)
    with gc_quiet.quiet_start():  # start-up
        pass
    gc_quiet.hold()  # the warm-up
    built = [[i] for i in range(10_000)]  # what it builds (containers the collector tracks)
    before = gc.get_freeze_count()
    try:
        gc_quiet.release()
        assert gc.get_freeze_count() >= before + len(built)
        assert gc.isenabled()
    finally:
        gc.unfreeze()  # the rest of this test process collects as usual
