"""Safety watch detectors side by side (python bench/safety.py): held-out precision/recall on
the newest held-out set and the training sets, latency and memory.

Latency is per message, one message at a time as the bot sees them, on one CPU thread;
memory is the process's resident size (VmRSS) from /proc.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.safety_folds import TRAINING_SETS  # noqa: E402
from familybot.services.safety import (  # noqa: E402
    english_model,
    spanish_model,
)
from familybot.services.safety import model as safety_model  # noqa: E402
from familybot.services.safety.lists import SPANISH_PHRASES_FILE, PhraseLists  # noqa: E402
from familybot.services.safety.watch import PHRASES_FILE, Detector, score  # noqa: E402
from tests.data.safety import SPANISH_TRAINING, Example, load, newest_held_out  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def figures(detector: Detector, examples: tuple[Example, ...]) -> tuple[float, float, int]:
    precision, recall, _, _ = score(detector, [(e.text, e.at_risk) for e in examples])
    return precision, recall, len(examples)


def latency_ms(matches: Callable[[str], bool], texts: list[str]) -> tuple[float, float]:
    times = []
    for text in texts:
        start = time.perf_counter()
        matches(text)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def bench() -> None:
    # English and Spanish sets: the bot reads every message with both lists.
    training = {name: load(name) for name in (*TRAINING_SETS, *SPANISH_TRAINING)}
    held = [name for name in (newest_held_out(), newest_held_out("es_heldout")) if name]
    held_outs = {name: load(name) for name in held}
    ordinary = load("ordinary")
    # Latency over the held-out sets, or every sixth training message on a branch without.
    every = [e for examples in training.values() for e in examples]
    texts = [e.text for examples in held_outs.values() for e in examples] or [
        e.text for e in every[::6]
    ]
    # Long and adversarial messages (4,000 characters): what must never stall the bot.
    floods = [
        ("if " * 1333)[:4000],
        "😂" * 4000,
        ("a " * 2000)[:4000],
        " ".join(str(n) for n in range(1100))[:4000],
    ]
    rows: list[str] = []
    perf: list[str] = []

    def add(detector: Detector) -> None:
        for held_name, held_out in held_outs.items():
            p, r, n = figures(detector, held_out)
            rows.append(f"| {detector.name} | **{held_name}** | {p:.3f} | {r:.3f} | {n} |")
        for name, examples in training.items():
            p, r, n = figures(detector, examples)
            rows.append(f"| {detector.name} | {name} (training) | {p:.3f} | {r:.3f} | {n} |")
        fired = sum(1 for e in ordinary if detector.matches(e.text))
        rows.append(
            f"| {detector.name} | ordinary chatter: fires on | {fired} | of | {len(ordinary)} |"
        )

    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    matcher = PhraseLists.load()
    load_s = time.perf_counter() - start
    added_mb = rss_mb() - before
    add(matcher)
    # The matcher as the bot runs it (both lists), then what each list costs alone.
    timed = [("matcher (both lists)", matcher.matches, load_s, added_mb)]
    timed += [(f"{name} alone", one.matches, None, None) for name, one in matcher.lists.items()]
    alone: dict[str, tuple[float, float]] = {}
    for label, matches, took, mb in timed:
        p50, p99 = latency_ms(matches, texts)
        _, flood_max = latency_ms(matches, floods)
        alone[label] = (p50, flood_max)
        load_col = "" if took is None else f"{took:.3f}"
        mb_col = "" if mb is None else f"{mb:.0f}"
        perf.append(
            f"| {label} | {load_col} | {p50:.3f} | {p99:.3f} | {flood_max:.0f} | "
            f"{mb_col} | {rss_mb():.0f} |"
        )

    # The English n-gram model (every install, tenth round): alone, and the light rule.
    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    ngram = english_model.shared_weights()
    load_s = time.perf_counter() - start
    added_mb = rss_mb() - before
    add(english_model.NgramModel(ngram))
    light = english_model.light_detector(matcher)
    add(light)
    for label, matches, took, mb in (
        ("n-gram model", ngram.probability, load_s, added_mb),
        ("light rule (both lists, both n-gram models)", light.matches, None, None),
    ):
        p50, p99 = latency_ms(matches, texts)
        _, flood_max = latency_ms(matches, floods)
        load_col = "" if took is None else f"{took:.3f}"
        mb_col = "" if mb is None else f"{mb:.0f}"
        perf.append(
            f"| {label} | {load_col} | {p50:.3f} | {p99:.3f} | {flood_max:.0f} | "
            f"{mb_col} | {rss_mb():.0f} |"
        )

    why_not = safety_model.missing()
    if why_not is None:
        gc.collect()
        before = rss_mb()
        start = time.perf_counter()
        classifier = safety_model.SafetyClassifier()
        classifier.matches("warm-up")
        load_s = time.perf_counter() - start
        add(classifier)
        # As the bot watches (model.bot_detector): the English list's match, the classifier
        # and the n-gram model by the shipped rule; the Spanish watch counts alone.
        english = matcher.lists[PHRASES_FILE]
        full = safety_model.FullRule(
            english,
            classifier,
            english_model.EnglishWatch(english, ngram),
            spanish_model.spanish_watch(matcher),
        )
        add(full)
        added = rss_mb() - before
        for label, matches in (
            ("classifier (1 thread)", classifier.matches),
            ("full rule (1 thread)", full.matches),
        ):
            p50, p99 = latency_ms(matches, texts)
            _, flood_max = latency_ms(matches, floods)
            perf.append(
                f"| {label} | {load_s:.2f} | {p50:.1f} | {p99:.1f} | "
                f"{flood_max:.0f} | {added:.0f} | {rss_mb():.0f} |"
            )
    print("| detector | set | precision | recall | n |")
    print("|---|---|---:|---:|---:|")
    print("\n".join(rows))
    print()
    print(
        "| detector | load s | p50 ms/message | p99 ms/message | slowest 4,000-char flood ms "
        "| RSS added MB | RSS total MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    print("\n".join(perf))
    # The README's claim: the Spanish list adds about half what the English one costs.
    english = alone.get(f"{PHRASES_FILE} alone")
    spanish = alone.get(f"{SPANISH_PHRASES_FILE} alone")
    if english and spanish:
        print(
            f"\nSpanish list / English list: {spanish[0] / english[0]:.2f} of its cost per "
            f"message (p50), {spanish[1] / english[1]:.2f} on the slowest flood"
        )
    if why_not is not None:
        print(f"\nclassifier skipped: {why_not}")
