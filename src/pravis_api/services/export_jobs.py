"""Creating, listing, reading and retrying export and backup jobs."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from pravis_api.core.config import Settings
from pravis_api.core.errors import ConflictError, NotFoundError
from pravis_api.models.export_job import FAILED, QUEUED, SUCCEEDED, ExportJob
from pravis_api.schemas.exports import ExportCreate, ExportPublic, ExportsPublic
from pravis_api.services.backup import manifest_name, new_backup_id
from pravis_api.services.exports import ExportRunner, blob_name
from pravis_api.services.storage import BlobStore, ReadLinkUnavailableError

_T = TypeVar("_T")

BACKUP = "backup"


@dataclass(frozen=True, slots=True)
class Scope:
    """Which jobs a caller may see: a shopper's own, admin exports, or backups."""

    owner_id: uuid.UUID | None = None
    backups: bool = False

    def where(self, statement: SelectOfScalar[_T]) -> SelectOfScalar[_T]:
        if self.owner_id is not None:
            return statement.where(col(ExportJob.owner_id) == self.owner_id)
        statement = statement.where(col(ExportJob.owner_id).is_(None))
        if self.backups:
            return statement.where(col(ExportJob.kind) == BACKUP)
        return statement.where(col(ExportJob.kind) != BACKUP)


class ExportJobService:
    def __init__(
        self,
        session: AsyncSession,
        runner: ExportRunner,
        blobs: BlobStore,
        settings: Settings,
    ) -> None:
        self.session = session
        self.runner = runner
        self.blobs = blobs
        self.settings = settings

    async def create(
        self,
        payload: ExportCreate,
        *,
        owner_id: uuid.UUID | None,
        requested_by: uuid.UUID,
    ) -> ExportPublic:
        job = ExportJob(
            kind=payload.kind,
            format=payload.format,
            date_from=payload.date_from,
            date_to=payload.date_to,
            owner_id=owner_id,
            requested_by=requested_by,
        )
        job.blob_name = blob_name(self.settings, job.id, job.kind, job.format)
        return await self._start(job)

    async def create_backup(self, requested_by: uuid.UUID) -> ExportPublic:
        job = ExportJob(kind=BACKUP, format="jsonl", requested_by=requested_by)
        job.blob_name = manifest_name(self.settings, new_backup_id())
        return await self._start(job)

    async def _start(self, job: ExportJob) -> ExportPublic:
        self.session.add(job)
        await self.session.commit()
        self.runner.start(job.id)
        return self.public(job)

    async def list(self, scope: Scope, page: int, page_size: int) -> ExportsPublic:
        total = (
            await self.session.exec(
                scope.where(select(func.count()).select_from(ExportJob))
            )
        ).one()
        jobs = (
            await self.session.exec(
                scope.where(select(ExportJob))
                .order_by(col(ExportJob.created_at).desc(), col(ExportJob.id))
                .offset((page - 1) * page_size)
                .limit(page_size)
            )
        ).all()
        return ExportsPublic(
            items=[self.public(job) for job in jobs],
            total=int(total),
            page=page,
            page_size=page_size,
        )

    async def _get(self, job_id: uuid.UUID, scope: Scope) -> ExportJob:
        job = (
            await self.session.exec(
                scope.where(select(ExportJob).where(col(ExportJob.id) == job_id))
            )
        ).first()
        if job is None:
            what = "backup" if scope.backups else "export"
            raise NotFoundError(f"No {what} {job_id}.")
        return job

    async def get(self, job_id: uuid.UUID, scope: Scope) -> ExportPublic:
        return self.public(await self._get(job_id, scope))

    async def retry(self, job_id: uuid.UUID, scope: Scope) -> ExportPublic:
        job = await self._get(job_id, scope)
        if job.status != FAILED:
            raise ConflictError(
                f"Only a failed job can be retried; this one is {job.status}."
            )
        job.status = QUEUED
        job.error = None
        job.finished_at = None
        return await self._start(job)

    def public(self, job: ExportJob) -> ExportPublic:
        url = expires = None
        if job.status == SUCCEEDED and job.blob_name and job.kind != BACKUP:
            expires = datetime.now(UTC) + timedelta(
                minutes=self.settings.export_link_expire_minutes
            )
            try:
                url = self.blobs.read_link(job.blob_name, expires)
            except ReadLinkUnavailableError:
                expires = None
        return ExportPublic(
            id=job.id,
            kind=job.kind,
            format=job.format,
            date_from=job.date_from,
            date_to=job.date_to,
            status=job.status,
            attempts=job.attempts,
            row_count=job.row_count,
            error=job.error,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            download_url=url,
            download_expires_at=expires,
            backup_id=job.blob_name.split("/")[-2]
            if job.kind == BACKUP and job.blob_name
            else None,
        )
