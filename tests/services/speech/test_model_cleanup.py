"""Deleting unused boutique model versions, on real files in a directory."""

import os
import time
from pathlib import Path

from pravis_api.services.speech.language_model import WORDS_SUFFIX
from pravis_api.services.speech.models import KEEP_VERSIONS, remove_unused_versions

UNUSED_SECONDS = 600.0
SUFFIXES = (".lm", ".dict", WORDS_SUFFIX)


def write_version(directory: Path, version: str, last_used: float) -> None:
    """Write a version's three files, the .lm one with mtime `last_used`."""
    for suffix in SUFFIXES:
        (directory / f"boutique-{version}{suffix}").write_text(version)
    os.utime(directory / f"boutique-{version}.lm", (last_used, last_used))


def versions_in(directory: Path) -> set[str]:
    return {path.stem.removeprefix("boutique-") for path in directory.iterdir()}


def test_cleanup_keeps_recently_used(tmp_path: Path) -> None:
    now = time.time()
    # Six versions, all used in the last 10 minutes.
    for minute in range(6):
        write_version(tmp_path, f"recent{minute}", now - 90 * minute)

    removed = remove_unused_versions(tmp_path, UNUSED_SECONDS, now=now)

    assert removed == []
    assert len(list(tmp_path.iterdir())) == 6 * len(SUFFIXES)


def test_cleanup_removes_unused_beyond_newest(tmp_path: Path) -> None:
    now = time.time()
    write_version(tmp_path, "in-use", now - 5)
    write_version(tmp_path, "recent", now - 300)
    for hour in range(1, 5):
        write_version(tmp_path, f"stale{hour}", now - 3600 * hour)

    removed = remove_unused_versions(tmp_path, UNUSED_SECONDS, now=now)

    # The newest three are kept whatever their age; the rest are unused.
    assert KEEP_VERSIONS == 3
    assert sorted(removed) == ["stale2", "stale3", "stale4"]
    assert versions_in(tmp_path) == {"in-use", "recent", "stale1"}
    assert len(list(tmp_path.iterdir())) == 3 * len(SUFFIXES)


def test_cleanup_keeps_newest_however_old(tmp_path: Path) -> None:
    now = time.time()
    for day in range(1, 4):
        write_version(tmp_path, f"old{day}", now - 86400 * day)

    assert remove_unused_versions(tmp_path, UNUSED_SECONDS, now=now) == []
    assert versions_in(tmp_path) == {"old1", "old2", "old3"}


def test_cleanup_ignores_unfinished_builds(tmp_path: Path) -> None:
    """Files of a build still being written have no .lm file yet."""
    now = time.time()
    for hour in range(1, 5):
        write_version(tmp_path, f"stale{hour}", now - 3600 * hour)
    building = tmp_path / "boutique-building.dict"
    building.write_text("building")
    os.utime(building, (now - 86400, now - 86400))
    temporary = tmp_path / "boutique-building.lm.123-abcd.tmp"
    temporary.write_text("building")

    assert remove_unused_versions(tmp_path, UNUSED_SECONDS, now=now) == ["stale4"]
    assert building.exists()
    assert temporary.exists()


def test_cleanup_of_empty_directory(tmp_path: Path) -> None:
    assert remove_unused_versions(tmp_path, UNUSED_SECONDS) == []
