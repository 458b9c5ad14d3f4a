"""Start-up's CPU-heavy steps run in worker threads, not on the event loop (issue 15: no
step may hold the loop > 50 ms): the cogs' modules are imported in a worker before
load_extension runs them, the command tree's translation (every string into every Discord
locale) is built in a worker before the sync, and no garbage collection runs meanwhile. Checked in a fresh process (so no
module is imported yet) starting the real bot against the fake Discord; what the fake
receives is still the translated tree."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import asyncio, gc, json, sys, threading
from pathlib import Path

first_import = {}  # module -> imported first on the main thread?


class Watch:
    def find_spec(self, name, path=None, target=None):
        if name.startswith("cogs."):
            first_import.setdefault(name, threading.current_thread() is threading.main_thread())
        return None


sys.meta_path.insert(0, Watch())

from familybot.i18n_discord import FamilyTranslator
from tests.e2e.harness import World
from tests.support.fake_discord import FakeDiscord

translated_on_main = []
translate = FamilyTranslator.translate


async def recording(self, string, locale, context):
    translated_on_main.append(threading.current_thread() is threading.main_thread())
    return await translate(self, string, locale, context)


FamilyTranslator.translate = recording


collections = []
gc_after = {}


async def main(tmp):
    fake = FakeDiscord()
    await fake.start()
    try:
        world = World(fake=fake, tmp=Path(tmp))
        world.populate()
        record = lambda phase, info: phase == "start" and collections.append(info["generation"])
        gc.callbacks.append(record)
        bot = await world.start_bot()
        gc.callbacks.remove(record)
        await bot.warm_up.wait()  # the phrase list and dates, built with the collector off
        gc_after.update(enabled=gc.isenabled(), frozen=gc.get_freeze_count())
        my = fake.find_command("my", world.guild_id)
        await world.stop_bot()
    finally:
        await fake.stop()
    return my


my = asyncio.run(main(sys.argv[1]))
print(json.dumps({
    "cogs_on_main": sorted(m for m, main in first_import.items() if main),
    "cogs": sorted(first_import),
    "translations": len(translated_on_main),
    "translations_on_main": sum(translated_on_main),
    "my_es": (my or {}).get("name_localizations", {}).get("es-ES"),
    "collections": collections,
    "gc_after": gc_after,
}))
"""


def test_cog_imports_and_the_tree_translation_run_off_the_event_loop(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=240,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    # Every cog module (and its components module) was first imported by the worker.
    assert {"cogs.setup", "cogs.groups", "cogs.groups_components"} <= set(seen["cogs"])
    assert seen["cogs_on_main"] == []
    # The whole tree was translated (hundreds of strings), none of it on the loop's thread...
    assert seen["translations"] > 500 and seen["translations_on_main"] == 0
    # ...and Discord received the Spanish names.
    assert seen["my_es"] == "mi"
    # No full garbage collection ran while the bot started (one held the loop 50-100 ms; the
    # old start-up ran 52 collections, full ones among them). setup_hook runs none at all; a
    # young-generation one (bounded by gc's allocation threshold, well under a millisecond)
    # may still run around it, in the gateway handshake the harness waits for (seen in CI).
    assert 2 not in seen["collections"] and len(seen["collections"]) <= 3, seen["collections"]
    assert seen["gc_after"]["enabled"] is True and seen["gc_after"]["frozen"] > 50_000
