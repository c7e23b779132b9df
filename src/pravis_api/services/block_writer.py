"""Upload a blob block by block while its content is produced.

Memory holds one block (EXPORT_BLOCK_BYTES) at a time, whatever the size
of the blob, so an export of millions of rows stays flat.
"""

import base64
import hashlib
import zlib

from azure.core.exceptions import AzureError

from pravis_api.services.storage import BlobStore

# Azure allows 50,000 blocks per blob.
MAX_BLOCKS = 50_000


class BlobWriteError(Exception):
    """Failure of a Blob Storage call while the blob is stored. Its cause is
    the SDK's, the OS's or the timeout's error."""


class BlockWriter:
    def __init__(
        self,
        blobs: BlobStore,
        name: str,
        *,
        block_bytes: int,
        gzip: bool = False,
    ) -> None:
        self.blobs = blobs
        self.name = name
        self.block_bytes = block_bytes
        self.buffer = bytearray()
        self.block_ids: list[str] = []
        # wbits 31: a gzip member, which `gunzip` and Python's gzip read.
        self.compressor = zlib.compressobj(6, zlib.DEFLATED, 31) if gzip else None
        # Of the bytes stored, so a backup's manifest can name it.
        self.sha256 = hashlib.sha256()
        self.size = 0

    async def write(self, data: bytes) -> None:
        if self.compressor is not None:
            data = self.compressor.compress(data)
        self.buffer += data
        if len(self.buffer) >= self.block_bytes:
            await self._flush()

    async def _flush(self) -> None:
        if not self.buffer:
            return
        if len(self.block_ids) >= MAX_BLOCKS:
            raise RuntimeError(
                f"{self.name} would need more than {MAX_BLOCKS} blocks; "
                "raise EXPORT_BLOCK_BYTES"
            )
        data = bytes(self.buffer)
        self.buffer.clear()
        block_id = base64.b64encode(f"{len(self.block_ids):08d}".encode()).decode()
        try:
            await self.blobs.stage_block(self.name, block_id, data)
        except (AzureError, OSError, TimeoutError) as exc:
            raise BlobWriteError(f"staging a block of {self.name} failed") from exc
        self.block_ids.append(block_id)
        self.sha256.update(data)
        self.size += len(data)

    async def close(self, content_type: str, filename: str | None = None) -> None:
        """Upload the rest and commit the blob."""
        if self.compressor is not None:
            self.buffer += self.compressor.flush()
            self.compressor = None
        await self._flush()
        try:
            await self.blobs.commit_blocks(
                self.name, self.block_ids, content_type, filename=filename
            )
        except (AzureError, OSError, TimeoutError) as exc:
            raise BlobWriteError(
                f"committing the blocks of {self.name} failed"
            ) from exc
