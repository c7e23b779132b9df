"""Exports (admin, and a shopper's own data) and backups (admin)."""

import uuid

from fastapi import APIRouter, Response, status

from pravis_api.api.deps import AdminUser, CurrentUser, ExportJobsDep, PaginationDep
from pravis_api.schemas.exports import ExportCreate, ExportPublic, ExportsPublic
from pravis_api.schemas.problem import problem_responses
from pravis_api.services.export_jobs import Scope

router = APIRouter(tags=["exports"])

ADMIN_EXPORTS = Scope()
BACKUPS = Scope(backups=True)


def _located(response: Response, path: str, job: ExportPublic) -> ExportPublic:
    response.headers["Location"] = f"/api/v1{path}/{job.id}"
    return job


@router.post(
    "/exports",
    response_model=ExportPublic,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(401, 403, 422),
)
async def create_export(
    payload: ExportCreate, admin: AdminUser, jobs: ExportJobsDep, response: Response
) -> ExportPublic:
    """Start an export of all interactions or events in the date range."""
    job = await jobs.create(payload, owner_id=None, requested_by=admin.id)
    return _located(response, "/exports", job)


@router.get(
    "/exports", response_model=ExportsPublic, responses=problem_responses(401, 403, 422)
)
async def list_exports(
    admin: AdminUser, jobs: ExportJobsDep, pagination: PaginationDep
) -> ExportsPublic:
    return await jobs.list(ADMIN_EXPORTS, pagination.page, pagination.page_size)


@router.get(
    "/exports/{export_id}",
    response_model=ExportPublic,
    responses=problem_responses(401, 403, 404, 422),
)
async def read_export(
    export_id: uuid.UUID, admin: AdminUser, jobs: ExportJobsDep
) -> ExportPublic:
    return await jobs.get(export_id, ADMIN_EXPORTS)


@router.post(
    "/exports/{export_id}/retry",
    response_model=ExportPublic,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def retry_export(
    export_id: uuid.UUID, admin: AdminUser, jobs: ExportJobsDep
) -> ExportPublic:
    """Run a failed export again."""
    return await jobs.retry(export_id, ADMIN_EXPORTS)


@router.post(
    "/users/me/exports",
    response_model=ExportPublic,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(401, 422),
)
async def create_own_export(
    payload: ExportCreate, user: CurrentUser, jobs: ExportJobsDep, response: Response
) -> ExportPublic:
    """Start an export of the caller's own interactions or events."""
    job = await jobs.create(payload, owner_id=user.id, requested_by=user.id)
    return _located(response, "/users/me/exports", job)


@router.get(
    "/users/me/exports",
    response_model=ExportsPublic,
    responses=problem_responses(401, 422),
)
async def list_own_exports(
    user: CurrentUser, jobs: ExportJobsDep, pagination: PaginationDep
) -> ExportsPublic:
    return await jobs.list(
        Scope(owner_id=user.id), pagination.page, pagination.page_size
    )


@router.get(
    "/users/me/exports/{export_id}",
    response_model=ExportPublic,
    responses=problem_responses(401, 404, 422),
)
async def read_own_export(
    export_id: uuid.UUID, user: CurrentUser, jobs: ExportJobsDep
) -> ExportPublic:
    """One of the caller's exports; another shopper's id gets 404."""
    return await jobs.get(export_id, Scope(owner_id=user.id))


@router.post(
    "/users/me/exports/{export_id}/retry",
    response_model=ExportPublic,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(401, 404, 409, 422),
)
async def retry_own_export(
    export_id: uuid.UUID, user: CurrentUser, jobs: ExportJobsDep
) -> ExportPublic:
    return await jobs.retry(export_id, Scope(owner_id=user.id))


@router.post(
    "/backups",
    response_model=ExportPublic,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(401, 403),
)
async def create_backup(
    admin: AdminUser, jobs: ExportJobsDep, response: Response
) -> ExportPublic:
    """Back up the database to Blob Storage; `backup_id` names it for restore."""
    job = await jobs.create_backup(admin.id)
    return _located(response, "/backups", job)


@router.get(
    "/backups", response_model=ExportsPublic, responses=problem_responses(401, 403, 422)
)
async def list_backups(
    admin: AdminUser, jobs: ExportJobsDep, pagination: PaginationDep
) -> ExportsPublic:
    return await jobs.list(BACKUPS, pagination.page, pagination.page_size)


@router.get(
    "/backups/{job_id}",
    response_model=ExportPublic,
    responses=problem_responses(401, 403, 404, 422),
)
async def read_backup(
    job_id: uuid.UUID, admin: AdminUser, jobs: ExportJobsDep
) -> ExportPublic:
    return await jobs.get(job_id, BACKUPS)


@router.post(
    "/backups/{job_id}/retry",
    response_model=ExportPublic,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def retry_backup(
    job_id: uuid.UUID, admin: AdminUser, jobs: ExportJobsDep
) -> ExportPublic:
    return await jobs.retry(job_id, BACKUPS)
