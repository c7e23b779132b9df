"""Backups to Blob Storage as gzip JSON Lines, and restores from them.

A backup is a folder `<BACKUP_PREFIX>/<backup id>/` holding one
`<table>.jsonl.gz` per table (one `row_to_json` object a line), a
`recordings.jsonl.gz` that lists the recordings' blob names (the audio is
not copied), and `manifest.json`, written last: the tables in dependency
order with their row counts, sizes and SHA-256 digests, and the schema
revision. All tables are read in one REPEATABLE READ snapshot, so the
files agree with one another.
"""

import hashlib
import json
import logging
import secrets
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel

import pravis_api.models  # noqa: F401  (registers the tables)
from pravis_api.core.config import Settings
from pravis_api.services.block_writer import BlockWriter
from pravis_api.services.storage import BlobStore

logger = logging.getLogger(__name__)

FORMAT = "pravis-backup/1"
# Not backed up: sign-in tokens expire anyway and are better re-issued, and
# export jobs point at files that belong to the old deployment.
EXCLUDED_TABLES = frozenset({"refresh_tokens", "password_reset_tokens", "export_jobs"})
ROWS_PER_FETCH = 2000
ROWS_PER_INSERT = 1000


class BackupError(Exception):
    """A backup cannot be restored; the message says why."""


class CorruptBackupError(BackupError):
    pass


def new_backup_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def backup_tables() -> list[Table]:
    """The tables backed up, parents before children."""
    return [
        table
        for table in SQLModel.metadata.sorted_tables
        if table.name not in EXCLUDED_TABLES
    ]


def _prefix(settings: Settings, backup_id: str) -> str:
    return f"{settings.backup_prefix}/{backup_id}"


def manifest_name(settings: Settings, backup_id: str) -> str:
    return f"{_prefix(settings, backup_id)}/manifest.json"


async def _write_lines(
    connection: AsyncConnection, sql: str, writer: BlockWriter
) -> int:
    result = await connection.stream(
        text(sql).execution_options(yield_per=ROWS_PER_FETCH)
    )
    rows = 0
    async for partition in result.partitions(ROWS_PER_FETCH):
        rows += len(partition)
        await writer.write("".join(f"{line}\n" for (line,) in partition).encode())
    await writer.close("application/gzip")
    return rows


async def write_backup(
    connection: AsyncConnection, blobs: BlobStore, settings: Settings, backup_id: str
) -> dict[str, Any]:
    """Write every table and the manifest; return the manifest."""
    prefix = _prefix(settings, backup_id)
    snapshot = await connection.execution_options(isolation_level="REPEATABLE READ")
    tables: list[dict[str, Any]] = []
    async with snapshot.begin():
        await snapshot.execute(text("SET TRANSACTION READ ONLY"))
        revision = await snapshot.scalar(
            text("SELECT version_num FROM alembic_version")
        )
        for table in backup_tables():
            order = ", ".join(
                f'"{column.name}"' for column in table.primary_key.columns
            )
            file = f"{table.name}.jsonl.gz"
            writer = BlockWriter(
                blobs,
                f"{prefix}/{file}",
                block_bytes=settings.export_block_bytes,
                gzip=True,
            )
            rows = await _write_lines(
                snapshot,
                f'SELECT row_to_json(t)::text FROM "{table.name}" AS t '
                f"ORDER BY {order}",
                writer,
            )
            tables.append(
                {
                    "table": table.name,
                    "file": file,
                    "rows": rows,
                    "bytes": writer.size,
                    "sha256": writer.sha256.hexdigest(),
                }
            )
        writer = BlockWriter(
            blobs,
            f"{prefix}/recordings.jsonl.gz",
            block_bytes=settings.export_block_bytes,
            gzip=True,
        )
        recordings = await _write_lines(
            snapshot,
            "SELECT json_build_object('blob', recording_blob, 'interaction_id', id)"
            "::text FROM voice_interactions WHERE recording_blob IS NOT NULL"
            " ORDER BY id",
            writer,
        )
    manifest = {
        "format": FORMAT,
        "backup_id": backup_id,
        "created_at": datetime.now(UTC).isoformat(),
        "alembic_revision": revision,
        "container": settings.azure_storage_container_name,
        "tables": tables,
        "recordings": {
            "note": "Recordings stay in Blob Storage and are not copied; this "
            "file lists their blob names.",
            "file": "recordings.jsonl.gz",
            "count": recordings,
            "bytes": writer.size,
            "sha256": writer.sha256.hexdigest(),
        },
    }
    await blobs.upload(
        manifest_name(settings, backup_id),
        json.dumps(manifest, indent=2).encode(),
        "application/json",
        overwrite=True,
    )
    logger.info(
        "backup.written",
        extra={"backup_id": backup_id, "rows": sum(t["rows"] for t in tables)},
    )
    return manifest


async def run_backup(
    engine: AsyncEngine,
    blobs: BlobStore,
    settings: Settings,
    backup_id: str | None = None,
) -> dict[str, Any]:
    backup_id = backup_id or new_backup_id()
    async with engine.connect() as connection:
        return await write_backup(connection, blobs, settings, backup_id)


async def read_manifest(
    blobs: BlobStore, settings: Settings, backup_id: str
) -> dict[str, Any]:
    try:
        data = await blobs.read(manifest_name(settings, backup_id))
    except ResourceNotFoundError as exc:
        raise BackupError(
            f"No backup {backup_id!r}: {manifest_name(settings, backup_id)} "
            "does not exist (a backup without a manifest did not finish)."
        ) from exc
    try:
        manifest: dict[str, Any] = json.loads(data)
    except ValueError as exc:
        raise CorruptBackupError(f"The manifest of {backup_id} is not JSON.") from exc
    if manifest.get("format") != FORMAT:
        raise CorruptBackupError(
            f"The manifest of {backup_id} has format {manifest.get('format')!r}, "
            f"not {FORMAT!r}."
        )
    return manifest


async def _chunks(blobs: BlobStore, name: str) -> AsyncIterator[bytes]:
    download = await blobs.download(name)
    async for chunk in download.chunks:
        yield chunk


async def _digest(blobs: BlobStore, name: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    async for chunk in _chunks(blobs, name):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _files(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [*manifest["tables"], manifest["recordings"]]


async def verify_backup(
    blobs: BlobStore, settings: Settings, manifest: dict[str, Any]
) -> None:
    """Raise CorruptBackupError unless every file matches its digest."""
    prefix = _prefix(settings, manifest["backup_id"])
    bad: list[str] = []
    for entry in _files(manifest):
        try:
            digest, size = await _digest(blobs, f"{prefix}/{entry['file']}")
        except ResourceNotFoundError:
            bad.append(f"{entry['file']} (missing)")
            continue
        if digest != entry["sha256"] or size != entry["bytes"]:
            bad.append(
                f"{entry['file']} (SHA-256 {digest[:12]}..., "
                f"expected {entry['sha256'][:12]}...)"
            )
    if bad:
        raise CorruptBackupError(
            f"Backup {manifest['backup_id']} is corrupt; these files do not match "
            f"the manifest: {', '.join(bad)}. Nothing was restored."
        )


async def _lines(blobs: BlobStore, name: str, digest: Any) -> AsyncIterator[bytes]:
    """The decompressed lines of a gzip JSON Lines blob, hashing what is read."""
    decompressor = zlib.decompressobj(31)
    pending = b""
    async for chunk in _chunks(blobs, name):
        digest.update(chunk)
        pending += decompressor.decompress(chunk)
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line:
                yield line
    pending += decompressor.flush()
    for line in pending.split(b"\n"):
        if line:
            yield line


async def restore_backup(
    engine: AsyncEngine, blobs: BlobStore, settings: Settings, backup_id: str
) -> dict[str, int]:
    """Load a backup into an empty database in one transaction.

    Refuses a database that has rows in any backed-up table or is at another
    schema revision, and a backup whose files do not match their digests.
    Returns the rows restored per table.
    """
    manifest = await read_manifest(blobs, settings, backup_id)
    known = {table.name for table in backup_tables()}
    async with engine.connect() as connection:
        revision = await connection.scalar(
            text("SELECT version_num FROM alembic_version")
        )
        if revision != manifest["alembic_revision"]:
            raise BackupError(
                "The backup was taken at schema revision "
                f"{manifest['alembic_revision']} "
                f"and the database is at {revision}; migrate it to "
                f"{manifest['alembic_revision']} first "
                "(pravis-api migrate --revision ...)."
            )
        unknown = [t["table"] for t in manifest["tables"] if t["table"] not in known]
        if unknown:
            raise BackupError(
                f"The backup holds tables this version does not know: {unknown}."
            )
        filled = [
            t["table"]
            for t in manifest["tables"]
            if await connection.scalar(
                text(f'SELECT EXISTS (SELECT 1 FROM "{t["table"]}")')
            )
        ]
        await connection.rollback()
        if filled:
            raise BackupError(
                "The database is not empty (rows in "
                f"{', '.join(filled)}); restore only into a newly migrated database."
            )
    await verify_backup(blobs, settings, manifest)

    prefix = _prefix(settings, backup_id)
    restored: dict[str, int] = {}
    async with engine.begin() as connection:
        for entry in manifest["tables"]:
            table = entry["table"]
            digest = hashlib.sha256()
            batch: list[bytes] = []
            count = 0

            # Generated columns (such as products.search_vector) are
            # computed again by PostgreSQL.
            names = (
                (
                    await connection.execute(
                        text(
                            "SELECT column_name FROM information_schema.columns"
                            " WHERE table_schema = current_schema() AND table_name = :t"
                            " AND is_generated = 'NEVER' ORDER BY ordinal_position"
                        ),
                        {"t": table},
                    )
                )
                .scalars()
                .all()
            )
            columns = ", ".join(f'"{name}"' for name in names)
            insert = text(
                f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM '
                f'json_populate_recordset(NULL::"{table}", CAST(:rows AS json))'
            )

            async def flush(batch: list[bytes], insert: Any = insert) -> None:
                await connection.execute(
                    insert, {"rows": (b"[" + b",".join(batch) + b"]").decode()}
                )

            async for line in _lines(blobs, f"{prefix}/{entry['file']}", digest):
                batch.append(line)
                count += 1
                if len(batch) >= ROWS_PER_INSERT:
                    await flush(batch)
                    batch = []
            if batch:
                await flush(batch)
            if digest.hexdigest() != entry["sha256"] or count != entry["rows"]:
                raise CorruptBackupError(
                    f"{entry['file']} changed while it was restored, or holds "
                    f"{count} rows instead of {entry['rows']}; nothing was restored."
                )
            restored[table] = count
    logger.info("backup.restored", extra={"backup_id": backup_id, "rows": restored})
    return restored
