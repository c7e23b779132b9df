"""The current boutique language model, rebuilt when the catalogue changes.

Each API process checks the catalogue's signature (product count and
latest update) every `SPEECH_MODEL_REFRESH_SECONDS`, and at once after a
catalogue write it made itself. When it changed, a speech worker builds the
model files (deterministic names, so processes sharing the directory reuse
each other's build), and later transcription jobs carry the new files to
every worker, which loads them on first use.

Processes sharing the directory may use different versions for a while,
so a version is deleted only when no process has marked it in use for
`unused_seconds`, and the newest KEEP_VERSIONS are always kept. Files that
disappear anyway (a temporary-file cleaner, an older version of this
cleanup) are built again by the next request or refresh.
"""

import asyncio
import logging
import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.services.speech.language_model import (
    WORDS_SUFFIX,
    CatalogueVocabulary,
    ModelFiles,
    spoken_values,
)
from pravis_api.services.speech_pool import SpeechWorkerPool

logger = logging.getLogger(__name__)

_SIGNATURE = "SELECT count(*), max(updated_at) FROM products"
_VOCABULARY = {
    "product_names": "SELECT name FROM products",
    "kinds": "SELECT DISTINCT subcategory FROM products WHERE subcategory IS NOT NULL",
    "weaves": "SELECT DISTINCT weave FROM products WHERE weave IS NOT NULL",
    "colors": "SELECT DISTINCT unnest(colors) FROM products",
    "fabrics": "SELECT DISTINCT fabric FROM products WHERE fabric IS NOT NULL",
}
# The newest model versions, which the cleanup never deletes.
KEEP_VERSIONS = 3
# Each process marks the model it uses (sets the .lm file's mtime) at every
# refresh. A version left unmarked for this many refresh intervals is used
# by no process that refreshes as often, so it may be deleted.
UNUSED_REFRESH_INTERVALS = 10
# The shortest such wait, for processes that share the directory with
# others that refresh less often.
MIN_UNUSED_SECONDS = 600.0


class SpeechModels:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        pool: SpeechWorkerPool,
        directory: Path,
        refresh_seconds: float,
    ) -> None:
        self.sessions = sessions
        self.pool = pool
        self.directory = directory
        self.refresh_seconds = refresh_seconds
        self.current: ModelFiles | None = None
        self._signature: tuple[Any, ...] | None = None
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Build the first model (logging a failure) and start the refresh loop."""
        await self.refresh()
        self._task = asyncio.get_running_loop().create_task(self._refresh_loop())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def invalidate(self) -> None:
        """Check the catalogue again now, after a write to it."""
        self._wake.set()

    @property
    def unused_seconds(self) -> float:
        """The time in seconds after which an unused model version is deleted."""
        return max(MIN_UNUSED_SECONDS, UNUSED_REFRESH_INTERVALS * self.refresh_seconds)

    async def ensure(self) -> ModelFiles | None:
        """Return the current model, building it first if there is none yet
        or its files are gone, so that no worker is sent a model it cannot
        load."""
        # NOTE: files deleted after this check, before a worker loads them,
        # still fail that one request. The next call builds them again.
        current = self.current
        if current is None or not current.exist():
            await self.refresh()
        return self.current

    async def refresh(self) -> ModelFiles | None:
        """Rebuild the model if the catalogue changed or its files are gone,
        then delete unused versions. A failed build is logged, and the old
        model is kept."""
        async with self._lock:
            model = await self._rebuild_if_stale()
            if model is not None:
                # Marked after a build too: a build that found another
                # process's files of this version rewrote none of them.
                _mark_in_use(model)
                self._remove_unused()
            return model

    async def _rebuild_if_stale(self) -> ModelFiles | None:
        try:
            signature = await self._read_signature()
            current = self.current
            if signature == self._signature and current is not None:
                if current.exist():
                    return current
                logger.warning(
                    "speech_model.files_missing",
                    extra={
                        "version": current.version,
                        "directory": str(self.directory),
                    },
                )
            started = time.perf_counter()
            vocabulary = await self._read_vocabulary()
            model = await self.pool.build_language_model(
                vocabulary, str(self.directory)
            )
        except Exception as exc:
            logger.error("speech_model.build_failed", extra={"error": repr(exc)})
            return self.current
        self.current, self._signature = model, signature
        logger.info(
            "speech_model.ready",
            extra={
                "version": model.version,
                "products": signature[0],
                "duration_ms": round((time.perf_counter() - started) * 1000),
            },
        )
        return model

    def _remove_unused(self) -> None:
        try:
            removed = remove_unused_versions(self.directory, self.unused_seconds)
        except OSError as exc:
            # The next refresh tries again, and the model in use is unaffected.
            logger.warning(
                "speech_model.cleanup_failed",
                extra={"directory": str(self.directory), "error": repr(exc)},
            )
            return
        if removed:
            logger.info("speech_model.removed", extra={"versions": removed})

    async def _refresh_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.refresh_seconds)
            except TimeoutError:
                pass
            self._wake.clear()
            await self.refresh()

    async def _read_signature(self) -> tuple[Any, ...]:
        async with self.sessions() as session:
            connection = await session.connection()
            row = (await connection.exec_driver_sql(_SIGNATURE)).one()
            return tuple(row)

    async def _read_vocabulary(self) -> CatalogueVocabulary:
        values: dict[str, tuple[str, ...]] = {}
        async with self.sessions() as session:
            connection = await session.connection()
            for name, sql in _VOCABULARY.items():
                rows = (await connection.exec_driver_sql(sql)).all()
                values[name] = spoken_values(str(row[0]) for row in rows)
        return CatalogueVocabulary(**values)


def _mark_in_use(model: ModelFiles) -> None:
    """Set the mtime of the model's .lm file, which the cleanup reads, to now."""
    try:
        os.utime(model.lm_path)
    except FileNotFoundError:
        pass  # removed meanwhile: the next ensure() or refresh() rebuilds it


def remove_unused_versions(
    directory: Path, unused_seconds: float, now: float | None = None
) -> list[str]:
    """Delete the files of model versions unused for `unused_seconds`.

    A version's last use is the mtime of its .lm file. The newest
    KEEP_VERSIONS versions are kept however old. Returns the versions
    deleted.
    """
    now = time.time() if now is None else now
    models: list[tuple[float, Path]] = []
    for path in directory.glob("boutique-*.lm"):
        try:
            models.append((path.stat().st_mtime, path))
        except FileNotFoundError:
            continue  # another process deleted it after the listing
    models.sort()
    removed = []
    for mtime, lm_path in models[:-KEEP_VERSIONS]:
        if now - mtime < unused_seconds:
            continue
        # The .lm file goes last, so that the next cleanup finds and
        # finishes a deletion cut short.
        for suffix in (".dict", WORDS_SUFFIX, ".lm"):
            lm_path.with_suffix(suffix).unlink(missing_ok=True)
        removed.append(lm_path.stem.removeprefix("boutique-"))
    return removed
