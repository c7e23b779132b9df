"""Group commit of voice interactions.

Each assistant turn inserts one row and adds it to the analytics rollups.
Committed one at a time, every turn waited for its own WAL flush and, under
load, for the rollup rows that the turn before it had locked: at 64
connections PostgreSQL's backends mostly waited on `WALSync` and row
locks. The writer sends the rows of the turns that arrive while a batch is
being written as the next batch, in one transaction: one round trip and
one flush for all of them. A lone turn is written at once; otherwise a
turn waits for the batch in flight, then for its own.

A batch that the database rejects because of its data (an integrity or a
data exception: a shopper deleted mid-request) is written again one row
at a time, so that a bad row fails only its own turn. Any other failure,
such as an outage, fails every turn of the batch with that error.
"""

import asyncio
import contextvars
import logging

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.repositories.interactions import NewInteraction, add_interactions

logger = logging.getLogger(__name__)

# Rows per transaction, so that one batch keeps the rollup rows locked briefly.
MAX_BATCH_ROWS = 64

_Entry = tuple[NewInteraction, "asyncio.Future[None]"]


class InteractionWriter:
    """Writer of interactions in batches, one per process."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        query_cap: int,
        max_rows: int = MAX_BATCH_ROWS,
    ) -> None:
        # Sessions that are not in autocommit: a batch is one transaction.
        self._sessions = sessions
        self._query_cap = query_cap
        self._max_rows = max_rows
        self._waiting: list[_Entry] = []
        self._flushing: asyncio.Task[None] | None = None

    async def add(self, interaction: NewInteraction) -> None:
        """Insert the row with its rollup counts and return once it is committed.

        Raises what inserting the row alone raises: IntegrityError if its
        user was deleted, or the database's outage errors.
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (interaction, future)
        self._waiting.append(entry)
        if self._flushing is None:
            # A fresh context, so that the batches' log lines do not carry
            # the request id of the turn that happened to start the task.
            self._flushing = asyncio.create_task(
                self._flush(), context=contextvars.Context()
            )
        try:
            await future
        except asyncio.CancelledError:
            # A row that no batch has taken yet is never written.
            # NOTE: a row that a batch has taken may still be committed
            # after its turn was cancelled.
            for index, waiting in enumerate(self._waiting):
                if waiting is entry:
                    del self._waiting[index]
                    break
            raise

    async def close(self) -> None:
        """Wait until every row already added is written or has failed."""
        if self._flushing is not None:
            await self._flushing

    async def _flush(self) -> None:
        batch: list[_Entry] = []
        try:
            while self._waiting:
                batch = self._waiting[: self._max_rows]
                del self._waiting[: self._max_rows]
                await self._write(batch)
        except BaseException:
            # Cancelled at shutdown: cancel the waiting turns too, so that
            # none waits forever.
            for _, future in [*batch, *self._waiting]:
                if not future.done():
                    future.cancel()
            self._waiting.clear()
            raise
        finally:
            self._flushing = None

    async def _write(self, batch: list[_Entry]) -> None:
        if len(batch) > 1:
            try:
                await self._insert([interaction for interaction, _ in batch])
            except Exception as exc:
                logger.warning(
                    "voice.interaction_batch_failed",
                    extra={"rows": len(batch), "error": repr(exc)},
                )
                if not _caused_by_data(exc):
                    for _, future in batch:
                        _settle(future, exc)
                    return
            else:
                for _, future in batch:
                    _settle(future, None)
                return
        for interaction, future in batch:
            try:
                await self._insert([interaction])
            except Exception as exc:
                _settle(future, exc)
            else:
                _settle(future, None)

    async def _insert(self, interactions: list[NewInteraction]) -> None:
        async with self._sessions() as session:
            await add_interactions(session, interactions, query_cap=self._query_cap)


def _caused_by_data(error: Exception) -> bool:
    """Tell whether the database rejected a row: SQLSTATE class 22 or 23."""
    if not isinstance(error, DBAPIError):
        return False
    sqlstate = getattr(error.orig, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate[:2] in {"22", "23"}


def _settle(future: "asyncio.Future[None]", error: Exception | None) -> None:
    # The turn may have been cancelled while its batch was written.
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
