"""Export jobs: rows streamed from PostgreSQL to a blob, block by block.

A job runs as a background task of the API process that created it. The
task holds a PostgreSQL advisory lock named after the job while it runs, so
at start-up any process can tell a job whose process died (its lock is
free) from one still running elsewhere, and marks the first failed.
"""

import asyncio
import csv
import io
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from azure.core.exceptions import HttpResponseError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from pravis_api.core.config import Settings
from pravis_api.models.export_job import FAILED, QUEUED, RUNNING, SUCCEEDED
from pravis_api.services.background import BackgroundTasks
from pravis_api.services.block_writer import BlobWriteError, BlockWriter
from pravis_api.services.storage import BlobStore

logger = logging.getLogger(__name__)

STOPPED_ERROR = (
    "The process running this job stopped before it finished (a restart, "
    "a crash or a shutdown). Retry it."
)
UNEXPECTED_ERROR = (
    "The export failed on an unexpected error, which the service logged with "
    "this job's id. Retry the job; if it fails again, report the job id."
)
BLOB_UNAVAILABLE_ERROR = (
    "Blob Storage was unavailable (the connection failed or timed out), so "
    "the job's file was not stored. Retry the job once Blob Storage is back."
)
# Queued jobs older than this whose lock is free never started: their
# process stopped between the request and the task.
QUEUED_GRACE = timedelta(minutes=1)
ROWS_PER_FETCH = 2000
LOCK = "SELECT pg_try_advisory_lock(hashtextextended(:id, 0))"
UNLOCK = "SELECT pg_advisory_unlock(hashtextextended(:id, 0))"

INTERACTION_COLUMNS = (
    "id",
    "created_at",
    "user_id",
    "session_id",
    "source",
    "transcript",
    "intent",
    "entities",
    "reply",
    "action",
    "product_ids",
    "success",
    "audio_format",
    "audio_duration_s",
    "has_recording",
    "stt_engine",
    "timings_ms",
)
EVENT_COLUMNS = (
    "id",
    "created_at",
    "occurred_at",
    "type",
    "session_id",
    "user_id",
    "path",
    "product_id",
    "properties",
)
_SELECTS = {
    "interactions": (
        "SELECT id, created_at, user_id, session_id, source, transcript, intent, "
        "entities, reply, action, to_jsonb(product_ids) AS product_ids, success, "
        "audio_format, audio_duration_s, recording_blob IS NOT NULL AS has_recording, "
        "stt_engine, timings_ms FROM voice_interactions"
    ),
    "events": (
        "SELECT id, created_at, occurred_at, type, session_id, user_id, path, "
        "product_id, properties FROM analytics_events"
    ),
}
COLUMNS = {"interactions": INTERACTION_COLUMNS, "events": EVENT_COLUMNS}
CONTENT_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class ExportQuery:
    kind: str
    format: str
    date_from: date | None
    date_to: date | None
    owner_id: uuid.UUID | None

    def sql(self) -> tuple[str, dict[str, Any]]:
        conditions: list[str] = []
        params: dict[str, Any] = {}
        if self.date_from is not None:
            conditions.append("created_at >= :start")
            params["start"] = datetime.combine(self.date_from, time(), UTC)
        # The request check keeps `to` before date.max, but a job row stored
        # without that check may name it, because asyncpg reads PostgreSQL's
        # 'infinity' as date.max. The day after it does not exist, so such a
        # job has no upper bound.
        if self.date_to is not None and self.date_to < date.max:
            conditions.append("created_at < :end")
            params["end"] = datetime.combine(
                self.date_to + timedelta(days=1), time(), UTC
            )
        if self.owner_id is not None:
            conditions.append("user_id = :owner")
            params["owner"] = self.owner_id
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        inner = f"{_SELECTS[self.kind]}{where} ORDER BY created_at, id"
        if self.format == "jsonl":
            # PostgreSQL writes the JSON: much less Python work per row.
            return f"SELECT row_to_json(t)::text FROM ({inner}) AS t", params
        return inner, params


def blob_name(settings: Settings, job_id: uuid.UUID, kind: str, fmt: str) -> str:
    return f"{settings.export_prefix}/{job_id}/{kind}.{fmt}"


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return value


async def stream_export(
    connection: AsyncConnection, query: ExportQuery, writer: BlockWriter
) -> int:
    """Write the rows of the query to the writer; return how many."""
    sql, params = query.sql()
    result = await connection.stream(
        text(sql).execution_options(yield_per=ROWS_PER_FETCH), params
    )
    rows = 0
    if query.format == "csv":
        header = io.StringIO()
        csv.writer(header).writerow(COLUMNS[query.kind])
        await writer.write(header.getvalue().encode())
    async for partition in result.partitions(ROWS_PER_FETCH):
        if query.format == "jsonl":
            chunk = "".join(f"{line}\n" for (line,) in partition)
        else:
            out = io.StringIO()
            csv_writer = csv.writer(out)
            for row in partition:
                csv_writer.writerow([_csv_value(value) for value in row])
            chunk = out.getvalue()
        rows += len(partition)
        await writer.write(chunk.encode())
    return rows


class ExportRunner:
    """Runs export and backup jobs as background tasks of this process."""

    def __init__(
        self,
        engine: AsyncEngine,
        blobs: BlobStore,
        settings: Settings,
        tasks: BackgroundTasks,
    ) -> None:
        self.engine = engine
        self.blobs = blobs
        self.settings = settings
        self.tasks = tasks

    def start(self, job_id: uuid.UUID) -> None:
        self.tasks.spawn(self.run(job_id), name=f"export-{job_id}")

    async def run(self, job_id: uuid.UUID) -> None:
        lock = {"id": str(job_id)}
        async with self.engine.connect() as connection:
            locked = await connection.scalar(text(LOCK), lock)
            await connection.commit()
            if not locked:
                return
            try:
                await self._run_locked(connection, job_id)
            finally:
                await _unlock(connection, lock)

    async def _run_locked(self, connection: AsyncConnection, job_id: uuid.UUID) -> None:
        job = (
            await connection.execute(
                text(
                    "UPDATE export_jobs SET status = :running, attempts = attempts + 1,"
                    " started_at = now(), updated_at = now(), finished_at = NULL,"
                    " error = NULL, row_count = 0"
                    " WHERE id = :id AND status = :queued"
                    " RETURNING kind, format, date_from, date_to, owner_id, blob_name"
                ),
                {"id": job_id, "running": RUNNING, "queued": QUEUED},
            )
        ).first()
        await connection.commit()
        if job is None:
            return
        logger.info("exports.started", extra={"job_id": str(job_id), "kind": job.kind})
        try:
            if job.kind == "backup":
                from pravis_api.services.backup import write_backup

                backup_id = str(job.blob_name).split("/")[-2]
                manifest = await write_backup(
                    connection, self.blobs, self.settings, backup_id
                )
                rows = sum(table["rows"] for table in manifest["tables"])
            else:
                writer = BlockWriter(
                    self.blobs,
                    job.blob_name,
                    block_bytes=self.settings.export_block_bytes,
                )
                query = ExportQuery(
                    job.kind, job.format, job.date_from, job.date_to, job.owner_id
                )
                async with connection.begin():
                    rows = await stream_export(connection, query, writer)
                await writer.close(
                    CONTENT_TYPES[job.format], filename=job.blob_name.rsplit("/", 1)[-1]
                )
        except asyncio.CancelledError:
            await asyncio.shield(self._finish(job_id, FAILED, error=STOPPED_ERROR))
            raise
        except BlobWriteError as exc:
            # Outages happen now and then, so they get a warning without a traceback.
            logger.warning(
                "exports.failed",
                extra={"job_id": str(job_id), "error": repr(exc.__cause__)},
            )
            await self._finish(job_id, FAILED, error=blob_error_message(exc.__cause__))
        except Exception:
            # The job's owner reads its error, and an exception's text may
            # name tables, addresses or values, so those stay in the log.
            logger.exception("exports.failed", extra={"job_id": str(job_id)})
            await self._finish(job_id, FAILED, error=UNEXPECTED_ERROR)
        else:
            await self._finish(job_id, SUCCEEDED, rows=rows)
            logger.info(
                "exports.succeeded", extra={"job_id": str(job_id), "rows": rows}
            )

    async def _finish(
        self, job_id: uuid.UUID, status: str, *, rows: int = 0, error: str | None = None
    ) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                text(
                    "UPDATE export_jobs SET status = :status, row_count = :rows,"
                    " error = :error, finished_at = now(), updated_at = now()"
                    " WHERE id = :id"
                ),
                {"id": job_id, "status": status, "rows": rows, "error": error},
            )


def blob_error_message(error: BaseException | None) -> str:
    """Describe a failed Blob Storage call for a job's error field. The job's
    owner reads that field, so the text contains no storage address or key."""
    if isinstance(error, HttpResponseError) and error.status_code is not None:
        return (
            f"Blob Storage returned HTTP {error.status_code} while storing the "
            "job's file, so the job failed. Retry it once the storage problem "
            "is fixed."
        )
    return BLOB_UNAVAILABLE_ERROR


async def _unlock(connection: AsyncConnection, lock: dict[str, str]) -> None:
    try:
        await connection.rollback()
        await asyncio.wait_for(connection.execute(text(UNLOCK), lock), 5)
        await connection.commit()
    except BaseException:
        # Closing the connection ends its session and so its locks.
        await connection.invalidate()
        raise


async def fail_interrupted_jobs(engine: AsyncEngine) -> list[uuid.UUID]:
    """Mark failed the jobs whose process stopped: running, or long queued,
    with their advisory lock free. Returns their ids."""
    failed: list[uuid.UUID] = []
    async with engine.connect() as connection:
        candidates: Sequence[Any] = (
            await connection.execute(
                text(
                    "SELECT id FROM export_jobs WHERE status = :running"
                    " OR (status = :queued"
                    " AND created_at < now() - CAST(:grace AS interval))"
                ),
                {"running": RUNNING, "queued": QUEUED, "grace": QUEUED_GRACE},
            )
        ).all()
        await connection.commit()
        for (job_id,) in candidates:
            lock = {"id": str(job_id)}
            if not await connection.scalar(text(LOCK), lock):
                await connection.commit()
                continue  # another process is running it
            try:
                updated = await connection.execute(
                    text(
                        "UPDATE export_jobs SET status = :failed, error = :error,"
                        " finished_at = now(), updated_at = now()"
                        " WHERE id = :id AND status IN (:running, :queued)"
                    ),
                    {
                        "id": job_id,
                        "failed": FAILED,
                        "error": STOPPED_ERROR,
                        "running": RUNNING,
                        "queued": QUEUED,
                    },
                )
                await connection.commit()
                if updated.rowcount:
                    failed.append(job_id)
            finally:
                await _unlock(connection, lock)
    if failed:
        logger.warning(
            "exports.interrupted_jobs_failed",
            extra={"jobs": [str(job_id) for job_id in failed]},
        )
    return failed
