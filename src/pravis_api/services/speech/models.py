"""The current boutique language model, rebuilt when the catalogue changes.

Each API process checks the catalogue's signature (product count and
latest update) every `SPEECH_MODEL_REFRESH_SECONDS`, and at once after a
catalogue write it made itself. When it changed, a speech worker builds the
model files (deterministic names, so processes sharing the directory reuse
each other's build), and later transcription jobs carry the new files to
every worker, which loads them on first use.
"""

import asyncio
import logging
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
# Model versions kept in the directory; other processes may still use the
# previous one for a moment after a rebuild.
KEEP_VERSIONS = 3


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

    async def ensure(self) -> ModelFiles | None:
        """The current model, building it first if there is none yet."""
        if self.current is None:
            await self.refresh()
        return self.current

    async def refresh(self) -> ModelFiles | None:
        """Rebuild the model if the catalogue changed; on failure log, keep the old."""
        async with self._lock:
            try:
                signature = await self._read_signature()
                if signature == self._signature and self.current is not None:
                    return self.current
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
            _remove_old_versions(self.directory)
            return model

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


def _remove_old_versions(directory: Path) -> None:
    models = sorted(
        directory.glob("boutique-*.lm"), key=lambda path: path.stat().st_mtime
    )
    for old in models[:-KEEP_VERSIONS]:
        for suffix in (".dict", WORDS_SUFFIX, ".lm"):
            old.with_suffix(suffix).unlink(missing_ok=True)
