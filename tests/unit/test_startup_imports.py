"""Start-up imports only what start-up uses (issue 15: ready < 1 s). Heavy libraries are
imported when a feature first needs them: matplotlib for the first chart, icalendar for the
first calendar, aiohttp's web server only when the live calendar feed is on."""

from __future__ import annotations

import json
import subprocess
import sys

LATER = ("matplotlib", "icalendar", "aiohttp.web", "familybot.feed_server")


def test_the_bot_and_every_cog_import_without_the_heavy_libraries() -> None:
    code = (
        "import importlib, json, sys, familybot.bot as bot\n"
        "for name in bot.COGS: importlib.import_module(name)\n"
        f"print(json.dumps([m for m in {LATER!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_a_calendar_still_builds_after_the_lazy_import() -> None:
    code = (
        "import sys, familybot.services.sessions.service as s, "
        "familybot.services.sessions.calendar_feed as f\n"
        "assert 'icalendar' not in sys.modules\n"
        "from familybot.services.sessions.calendar import build_ics, restamp\n"
        "print('icalendar' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
