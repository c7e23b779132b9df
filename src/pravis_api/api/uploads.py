"""Checks of an uploaded recording before it goes to a speech worker."""

from fastapi import UploadFile

from pravis_api.core.errors import FieldError, InvalidInputError, PayloadTooLargeError
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
