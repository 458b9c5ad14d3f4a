"""The /group stats chart: RSVPs (Going, Maybe) against attendance per session, as a PNG.

Drawn with matplotlib's Agg backend through the object API (a Figure of our own, no pyplot),
so it needs no display and is safe to run in a worker thread. matplotlib is imported inside
the drawing, when first asked for: starting the bot doesn't pay for it, and a process where
nobody asks for a chart never holds its ~50 MB; the first /group stats after a start pays
the import (~0.65 s, behind its deferral).
The same data in the same language is drawn once (an LRU cache keyed by the data itself:
any changed count, date, capacity or language is a new key, so a stale chart is never sent).

The image carries no group name and no member names: only dates and counts. The group's
name is in the private reply around it.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from familybot import i18n
from familybot.i18n import _

WIDTH_PX = 1200
HEIGHT_PX = 600
DPI = 100
GOING_COLOUR = "#2E6F9E"
MAYBE_COLOUR = "#9CC3E0"
ATTENDED_COLOUR = "#E08E2E"
CAPACITY_COLOUR = "#555555"
# At most this many date labels on the x axis, so they stay readable with a year of sessions.
MAX_LABELS = 10
# Charts kept (each a PNG of some 30-60 kB): the groups whose stats were asked for lately.
CACHE_SIZE = 32


@dataclass(frozen=True)
class ChartPoint:
    """One session: its local date and the counts to draw (no names)."""

    day: date
    going: int
    maybe: int
    attended: int


def _label_step(count: int) -> int:
    return max(1, -(-count // MAX_LABELS))


def render_attendance_chart(points: Sequence[ChartPoint], capacity: int | None) -> bytes:
    """A WIDTH_PX x HEIGHT_PX PNG in the current language. Blocking (tens of milliseconds
    when drawn, not when cached): call it in a thread."""
    return _cached_chart(tuple(points), capacity, i18n.current_language())


@functools.lru_cache(maxsize=CACHE_SIZE)
def _cached_chart(
    points: tuple[ChartPoint, ...], capacity: int | None, language: i18n.Language
) -> bytes:
    with i18n.using(language):
        return draw_attendance_chart(points, capacity)


def draw_attendance_chart(points: Sequence[ChartPoint], capacity: int | None) -> bytes:
    """The chart, drawn now (no cache)."""
    from matplotlib.artist import Artist
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    # Fixed margins: tight_layout would draw the whole figure twice.
    fig.subplots_adjust(left=0.06, right=0.98, top=0.92, bottom=0.11)
    ax = fig.add_subplot()
    xs = list(range(len(points)))
    width = 0.4
    going = [p.going for p in points]
    maybe = [p.maybe for p in points]
    attended = [p.attended for p in points]
    # One collection of rectangles per series instead of ax.bar's one artist per bar:
    # a year of sessions draws in a fraction of the time.
    bars = (
        ([x - width for x in xs], [0] * len(xs), going, GOING_COLOUR),
        ([x - width for x in xs], going, maybe, MAYBE_COLOUR),
        (xs, [0] * len(xs), attended, ATTENDED_COLOUR),
    )
    for lefts, bottoms, heights, colour in bars:
        verts = [
            [(x, b), (x, b + h), (x + width, b + h), (x + width, b)]
            for x, b, h in zip(lefts, bottoms, heights, strict=True)
            if h > 0
        ]
        ax.add_collection(PolyCollection(verts, facecolors=colour, edgecolors="none"))
    handles: list[Artist] = [
        Patch(color=GOING_COLOUR, label=_("Going")),
        Patch(color=MAYBE_COLOUR, label=_("Maybe")),
        Patch(color=ATTENDED_COLOUR, label=_("Attended")),
    ]
    top = max([g + m for g, m in zip(going, maybe, strict=True)] + attended + [0])
    if capacity is not None:
        handles.append(
            ax.axhline(
                capacity, color=CAPACITY_COLOUR, linestyle="--", linewidth=1.5, label=_("Seats")
            )
        )
        top = max(top, capacity)
    ax.set_ylim(0, max(1, top) * 1.25)
    step = _label_step(len(points))
    ticks = xs[::step]
    ax.set_xticks(ticks, [i18n.format_skeleton(points[i].day, "MMMd") for i in ticks], fontsize=10)
    ax.set_xlim(-0.75, max(len(points) - 0.25, 0.75))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.tick_params(axis="y", labelsize=11)
    ax.set_ylabel(_("People"), fontsize=12)
    years = sorted({p.day.year for p in points})
    span = f"{years[0]}" if len(years) == 1 else f"{years[0]}–{years[-1]}"
    ax.set_xlabel(
        _("Session date ({years})").format(years=span) if points else _("Session date"),
        fontsize=12,
    )
    # An explicit y skips matplotlib's automatic title placement (a whole extra layout pass).
    ax.set_title(_("RSVPs and attendance per session"), fontsize=14, y=1.02)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(handles=handles, loc="upper left", fontsize=11, ncols=4, frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    out = io.BytesIO()
    # zlib level 1: a few kilobytes bigger, tens of milliseconds faster than the default 6.
    fig.savefig(out, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return out.getvalue()
