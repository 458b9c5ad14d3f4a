"""Logging: one line per event, ids not names, never tokens or message content."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter(
            "%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S%z"
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # discord.py logs request bodies and interaction tokens at DEBUG: never below INFO.
    for name in ("discord", "discord.http", "discord.gateway", "discord.client"):
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLevelName(level)))
    # APScheduler logs several lines per job run at INFO, which slows bursts.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
