"""A cold start without a reboot: the bot's files dropped from the kernel's page cache.

A family's install starts after every reboot with nothing in memory: Python's standard
library, the installed packages, FamilyBot's own modules and the database file are read
from the disk. `evict()` asks the kernel to drop the cached pages of exactly those files
(posix_fadvise DONTNEED, per file: no root, no effect on anyone else's files), so the next
start reads them again. What stays cached: pages some running process has mapped (the
Python interpreter and shared libraries the benchmark's own process uses), so a real
reboot is a little colder still.
"""

from __future__ import annotations

import compileall
import os
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bench.common import REPO_ROOT


def bot_roots() -> list[Path]:
    """Everything a starting bot reads: interpreter's library, packages, code, certificates,
    time zones (the database is added by the caller)."""
    paths = sysconfig.get_paths()
    roots = {Path(paths["stdlib"]), Path(paths["purelib"]), Path(paths["platlib"])}
    roots |= {REPO_ROOT / "familybot", REPO_ROOT / "cogs"}
    roots |= {Path("/etc/ssl"), Path("/usr/lib/ssl"), Path("/usr/share/zoneinfo")}
    return sorted(p for p in roots if p.exists())


@dataclass(frozen=True)
class Evicted:
    files: int
    megabytes: float


def _files(roots: Iterable[Path]) -> Iterable[Path]:
    for root in roots:
        if root.is_file():
            yield root
            continue
        for dirpath, _, names in os.walk(root):
            for name in names:
                yield Path(dirpath, name)


def evict(roots: Iterable[Path], flush: Iterable[Path] = ()) -> Evicted:
    """Drop the page-cache pages of every file under `roots`. Only clean pages go: files
    in `flush` (a database just copied) are written out first."""
    for path in flush:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fdatasync(fd)
        finally:
            os.close(fd)
    files, size = 0, 0
    for path in _files([*roots, *flush]):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            size += os.fstat(fd).st_size
            files += 1
        except OSError:
            pass
        finally:
            os.close(fd)
    return Evicted(files, round(size / 2**20, 1))


def compile_bytecode() -> None:
    """An install has its .pyc files (pip writes them; the first start writes ours): so
    must the benchmark, or its first start pays for compiling a module changed since."""
    for root in (REPO_ROOT / "familybot", REPO_ROOT / "cogs"):
        compileall.compile_dir(root, quiet=1)
