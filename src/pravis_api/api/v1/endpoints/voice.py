"""Voice endpoints: a spoken or typed request in, the assistant's reply out."""

import secrets
from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile

from pravis_api.api.deps import OptionalUser, SettingsDep, VoiceServiceDep
from pravis_api.core.errors import FieldError, InvalidInputError, PayloadTooLargeError
from pravis_api.schemas.problem import problem_responses
from pravis_api.schemas.voice import SESSION_ID_PATTERN, TextCommand, VoiceReply
from pravis_api.services.audio import ACCEPTED_FORMATS_TEXT, is_accepted_content_type
from pravis_api.services.voice import (
    AUDIO_FIELD,
    Shopper,
    UnsupportedAudioFormatError,
    recording_allowed,
)

router = APIRouter(prefix="/voice", tags=["voice"])


def _json(reply: VoiceReply) -> Response:
    # The reply was validated when it was built; returning a Response skips
    # FastAPI's second validation against response_model.
    return Response(reply.model_dump_json(), media_type="application/json")


def new_session_id() -> str:
    return secrets.token_urlsafe(16)


def _require_audio(upload: UploadFile | None) -> UploadFile:
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


async def _read_audio(upload: UploadFile, max_bytes: int) -> bytes:
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


@router.post(
    "/query",
    response_model=VoiceReply,
    responses=problem_responses(401, 413, 415, 422, 503),
)
async def voice_query(
    service: VoiceServiceDep,
    settings: SettingsDep,
    user: OptionalUser,
    audio: Annotated[
        UploadFile | None,
        File(description=f"The spoken request: {ACCEPTED_FORMATS_TEXT}."),
    ] = None,
    session_id: Annotated[
        str | None,
        Form(
            pattern=SESSION_ID_PATTERN,
            description="The anonymous shopper's session; issued when missing.",
        ),
    ] = None,
    store_recording: Annotated[
        bool | None,
        Form(
            description="Whether to keep the recording. When omitted, the "
            "signed-in shopper's preference applies, else the boutique's default."
        ),
    ] = None,
) -> Response:
    """Transcribe a spoken request, reply to it and store the interaction."""
    # NOTE: the whole upload is received and parsed before a full speech
    # pool turns the request away with 503.
    upload = _require_audio(audio)
    data = await _read_audio(upload, settings.voice_max_upload_bytes)

    shopper = Shopper(
        user_id=user.id if user else None,
        session_id=session_id or new_session_id(),
        store_recording=recording_allowed(
            store_recording,
            user.store_recordings if user else None,
            settings.voice_store_recordings_default,
        ),
    )
    return _json(await service.answer_recording(data, shopper))


@router.post(
    "/command",
    response_model=VoiceReply,
    responses=problem_responses(401, 422, 503),
)
async def voice_command(
    command: TextCommand,
    service: VoiceServiceDep,
    settings: SettingsDep,
    user: OptionalUser,
) -> Response:
    """Reply to a typed request, as /voice/query replies to a spoken one."""
    text = command.text.strip()
    if len(text) > settings.voice_max_text_chars:
        message = (
            f"The text has {len(text)} characters; the maximum is "
            f"{settings.voice_max_text_chars}. Send a shorter request."
        )
        raise InvalidInputError(message, errors=[FieldError("text", message)])

    shopper = Shopper(
        user_id=user.id if user else None,
        session_id=command.session_id or new_session_id(),
    )
    return _json(await service.answer_text(text, shopper))
