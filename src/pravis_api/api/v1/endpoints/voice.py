"""Voice endpoints: a spoken or typed request in, the assistant's reply out."""

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile

from pravis_api.api.deps import OptionalUser, VoiceRoute, VoiceRouteDep
from pravis_api.api.uploads import (
    ASSISTANT_UPLOADS,
    read_audio,
    require_audio,
    upload_gate,
)
from pravis_api.core.errors import FieldError, InvalidInputError
from pravis_api.models.user import User
from pravis_api.schemas.problem import problem_responses
from pravis_api.schemas.voice import (
    SESSION_ID_PATTERN,
    SpeechFormat,
    TextCommand,
    VoiceReply,
)
from pravis_api.services.audio import ACCEPTED_FORMATS_TEXT
from pravis_api.services.response_cache import user_namespace
from pravis_api.services.speech.synthesis import SpeechService
from pravis_api.services.voice import Shopper, SpeakRequest, recording_allowed

router = APIRouter(prefix="/voice", tags=["voice"])


def _json(reply: VoiceReply) -> Response:
    # The reply was validated when it was built; returning a Response skips
    # FastAPI's second validation against response_model.
    return Response(reply.model_dump_json(), media_type="application/json")


def _speak_request(
    speak: bool, voice: str | None, audio_format: str, speech: SpeechService
) -> SpeakRequest | None:
    if not speak:
        return None
    return SpeakRequest(speech.resolve_voice(voice), audio_format)


async def _after_reply(
    request: Request,
    route: VoiceRoute,
    reply: VoiceReply,
    source: str,
    user: User | None,
) -> Response:
    span = request.scope.get("state", {}).get("server_span")
    route.telemetry.record_voice_timings(span, reply.timings_ms, source)
    if user is not None:
        # The signed-in shopper's history has a new interaction.
        await route.cache.invalidate(user_namespace(user.id))
    return _json(reply)


def new_session_id() -> str:
    return secrets.token_urlsafe(16)


@router.post(
    "/query",
    response_model=VoiceReply,
    responses=problem_responses(401, 413, 415, 422, 502, 503, 504),
    dependencies=[Depends(upload_gate(ASSISTANT_UPLOADS))],
)
async def voice_query(
    request: Request,
    route: VoiceRouteDep,
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
    speak: Annotated[
        bool, Form(description="Also return the reply as speech.")
    ] = False,
    voice: Annotated[
        str | None, Form(description="Voice id from GET /voice/voices.")
    ] = None,
    format: Annotated[
        SpeechFormat, Form(description="Audio format of the speech.")
    ] = "ogg",
) -> Response:
    """Transcribe a spoken request, reply to it and store the interaction."""
    # The upload is received and spooled before the gate can turn the
    # request away with 503, but it is read into memory only once admitted.
    service, settings = route.service, route.settings
    upload = require_audio(audio)
    data = await read_audio(upload, settings.voice_max_upload_bytes)

    shopper = Shopper(
        user_id=user.id if user else None,
        session_id=session_id or new_session_id(),
        store_recording=recording_allowed(
            store_recording,
            user.store_recordings if user else None,
            settings.voice_store_recordings_default,
        ),
    )
    speech = _speak_request(speak, voice, format, service.speech)
    reply = await service.answer_recording(data, shopper, speech)
    return await _after_reply(request, route, reply, "audio", user)


@router.post(
    "/command",
    response_model=VoiceReply,
    responses=problem_responses(401, 422, 502, 503, 504),
)
async def voice_command(
    request: Request,
    command: TextCommand,
    route: VoiceRouteDep,
    user: OptionalUser,
) -> Response:
    """Reply to a typed request, as /voice/query replies to a spoken one."""
    service, settings = route.service, route.settings
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
    speech = _speak_request(
        command.speak, command.voice, command.format, service.speech
    )
    reply = await service.answer_text(text, shopper, speech)
    return await _after_reply(request, route, reply, "text", user)
