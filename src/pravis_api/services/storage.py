"""Blob Storage for recordings (Azure Blob Storage, or Azurite locally).

Blob Storage is not essential to serving a shopper: when it is down, the
callers log the failure and carry on without the blob.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import (
    BlobBlock,
    BlobSasPermissions,
    ContentSettings,
    generate_blob_sas,
)
from azure.storage.blob.aio import BlobServiceClient, ContainerClient, LinearRetry

from pravis_api.core.config import Settings

logger = logging.getLogger(__name__)

RECORDING_CONTENT_TYPES = {
    "wav": "audio/wav",
    "webm": "audio/webm",
    "ogg": "audio/ogg",
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
}


def create_blob_service(settings: Settings) -> BlobServiceClient:
    return BlobServiceClient.from_connection_string(
        settings.blob_connection_string,
        # azure-storage-blob 12.31 retries 3 times after 15, 18 and 24 s by
        # default. A shopper's request cannot wait that long, so retry once,
        # half a second later. The SDK annotates these as int but computes
        # the wait with float arithmetic.
        retry_policy=LinearRetry(
            backoff=0.5,  # type: ignore[arg-type]
            random_jitter_range=0.2,  # type: ignore[arg-type]
            retry_total=1,
        ),
        connection_timeout=settings.blob_timeout_seconds,
        read_timeout=settings.blob_timeout_seconds,
    )


class ReadLinkUnavailableError(Exception):
    """The storage credential cannot sign links (it has no account key)."""


@dataclass(frozen=True, slots=True)
class BlobDownload:
    size: int
    content_type: str | None
    chunks: AsyncIterator[bytes]


class BlobStore:
    def __init__(
        self, service: BlobServiceClient, container_name: str, timeout: float
    ) -> None:
        self.service = service
        self.container_name = container_name
        # `timeout` bounds each HTTP call. An operation may take two calls and
        # the retry's half-second wait, so operations get twice that and one
        # second more.
        self.timeout = timeout
        self.operation_timeout = 2 * timeout + 1
        self.container: ContainerClient = service.get_container_client(container_name)

    async def ensure_container(self) -> bool:
        """Create the container if missing; return False when storage is unreachable."""
        try:
            await asyncio.wait_for(
                self.container.create_container(), self.operation_timeout
            )
            logger.info(
                "blob.container_created", extra={"container": self.container_name}
            )
        except ResourceExistsError:
            pass
        except (AzureError, OSError, TimeoutError) as exc:
            logger.warning(
                "blob.container_check_failed",
                extra={"container": self.container_name, "error": repr(exc)},
            )
            return False
        return True

    async def check(self) -> None:
        """Raise if the container cannot be reached within the timeout."""
        await asyncio.wait_for(self.container.get_container_properties(), self.timeout)

    async def upload(
        self, name: str, data: bytes, content_type: str, *, overwrite: bool = False
    ) -> None:
        """Upload a blob; raises AzureError, OSError or TimeoutError on failure,
        and ResourceExistsError when it exists and `overwrite` is False."""
        settings = ContentSettings(content_type=content_type)

        async def upload() -> None:
            await asyncio.wait_for(
                self.container.upload_blob(
                    name, data, content_settings=settings, overwrite=overwrite
                ),
                self.operation_timeout,
            )

        try:
            await upload()
        except ResourceNotFoundError:
            # The container was deleted, or storage was down at start-up.
            if not await self.ensure_container():
                raise
            await upload()

    async def delete(self, name: str) -> None:
        try:
            await asyncio.wait_for(
                self.container.delete_blob(name), self.operation_timeout
            )
        except ResourceNotFoundError:
            pass

    async def download(self, name: str) -> BlobDownload:
        """Start a download; raises ResourceNotFoundError for a missing blob,
        and AzureError, OSError or TimeoutError when storage fails."""
        downloader = await asyncio.wait_for(
            self.container.download_blob(name), self.operation_timeout
        )
        return BlobDownload(
            size=downloader.size,
            content_type=downloader.properties.content_settings.content_type,
            chunks=downloader.chunks(),
        )

    async def read(self, name: str) -> bytes:
        """Download a small blob whole; raises as `download` does."""
        downloader = await asyncio.wait_for(
            self.container.download_blob(name), self.operation_timeout
        )
        return bytes(
            await asyncio.wait_for(downloader.readall(), self.operation_timeout)
        )

    async def stage_block(self, name: str, block_id: str, data: bytes) -> None:
        """Upload one uncommitted block of a blob (see BlockWriter)."""
        blob = self.container.get_blob_client(name)

        async def stage() -> None:
            await asyncio.wait_for(
                blob.stage_block(block_id, data, length=len(data)),
                self.operation_timeout + len(data) / 1_000_000,
            )

        try:
            await stage()
        except ResourceNotFoundError:
            if not await self.ensure_container():
                raise
            await stage()

    async def commit_blocks(
        self,
        name: str,
        block_ids: list[str],
        content_type: str,
        *,
        filename: str | None = None,
    ) -> None:
        """Make the staged blocks the blob's content, replacing any older one."""
        disposition = f'attachment; filename="{filename}"' if filename else None
        await asyncio.wait_for(
            self.container.get_blob_client(name).commit_block_list(
                [BlobBlock(block_id=block_id) for block_id in block_ids],
                content_settings=ContentSettings(
                    content_type=content_type, content_disposition=disposition
                ),
            ),
            self.operation_timeout,
        )

    async def list_names(self, prefix: str) -> list[str]:
        return [
            blob.name
            async for blob in self.container.list_blobs(name_starts_with=prefix)
        ]

    def read_link(self, name: str, expires_at: datetime) -> str:
        """Sign a URL that lets anyone holding it read one blob until `expires_at`.

        The SAS is signed locally with the account key from the connection
        string, so no request is made. Raises ReadLinkUnavailableError when
        the connection string has no account key (a SAS token instead).
        """
        account_key = getattr(self.service.credential, "account_key", None)
        if not account_key:
            raise ReadLinkUnavailableError(
                "the storage connection string has no account key"
            )
        signature = generate_blob_sas(
            account_name=self.service.account_name or "",
            container_name=self.container_name,
            blob_name=name,
            account_key=account_key,
            permission=BlobSasPermissions(read=True),
            expiry=expires_at,
        )
        return f"{self.container.get_blob_client(name).url}?{signature}"

    async def close(self) -> None:
        await self.service.close()
