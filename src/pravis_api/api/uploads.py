"""Checks of an uploaded recording before it goes to a speech worker."""

from collections.abc import AsyncIterator, Callable

from fastapi import Request, UploadFile

from pravis_api.core.errors import (
    FieldError,
    InvalidInputError,
    PayloadTooLargeError,
    ServiceUnavailableError,
)
from pravis_api.services.audio import ACCEPTED_FORMATS_TEXT, is_accepted_content_type
from pravis_api.services.voice import AUDIO_FIELD, UnsupportedAudioFormatError


def require_audio(upload: UploadFile | None) -> UploadFile:
    if upload is None:
        message = (
            "No recording was sent. Send it as multipart/form-data with the "
            f"file in the field '{AUDIO_FIELD}'."
        )
        raise InvalidInputError(message, errors=[FieldError(AUDIO_FIELD, "missing")])
    if not is_accepted_content_type(upload.content_type):
        message = (
            f"The file in '{AUDIO_FIELD}' has content type {upload.content_type}, "
            f"which is not accepted. Send {ACCEPTED_FORMATS_TEXT}."
        )
        raise UnsupportedAudioFormatError(
            message, errors=[FieldError(AUDIO_FIELD, message)]
        )
    return upload


async def read_audio(upload: UploadFile, max_bytes: int) -> bytes:
    # Read one byte past the limit to tell "exactly at" from "over".
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        message = (
            f"The recording is larger than the limit of {max_bytes} bytes. "
            "Send a shorter recording."
        )
        raise PayloadTooLargeError(message, errors=[FieldError(AUDIO_FIELD, message)])
    if not data:
        message = f"The file in '{AUDIO_FIELD}' is empty. Send the whole recording."
        raise InvalidInputError(message, errors=[FieldError(AUDIO_FIELD, "empty file")])
    return data


# Keys of the gates in `app.state.upload_gates`, one per speech worker pool.
ASSISTANT_UPLOADS = "assistant"
DICTATION_UPLOADS = "dictation"


class UploadGate:
    """A bound on the recordings one API process keeps in memory at once.

    Starlette spools each upload to a temporary file past 1 MB; a recording
    is read into memory only after it passes this gate. The bound is the
    capacity of the speech worker pool the recordings go to, so a request
    the pool would shed with 503 is shed before its bytes are read.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_use = 0

    def enter(self) -> None:
        if self.in_use >= self.limit:
            raise ServiceUnavailableError(
                f"The speech workers are busy: {self.limit} recordings are being "
                "handled or are waiting. Retry shortly.",
                retry_after_seconds=2,
            )
        self.in_use += 1

    def leave(self) -> None:
        self.in_use -= 1


def upload_gate(name: str) -> Callable[[Request], AsyncIterator[None]]:
    """Return a dependency that reserves a place at the named gate for the
    request, or rejects it with 503 when the gate is full."""

    async def hold_place(request: Request) -> AsyncIterator[None]:
        gate: UploadGate = request.app.state.upload_gates[name]
        gate.enter()
        try:
            yield
        finally:
            gate.leave()

    return hold_place
