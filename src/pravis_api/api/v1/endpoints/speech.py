"""Speech endpoints: dictation, synthesis and the voices to choose from."""

import re
from typing import Annotated

from fastapi import APIRouter, Depends, File, Response, UploadFile

from pravis_api.api.deps import ResourcesDep, SettingsDep, SpeechServiceDep
from pravis_api.api.uploads import (
    DICTATION_UPLOADS,
    read_audio,
    require_audio,
    upload_gate,
)
from pravis_api.core.errors import FieldError, InvalidInputError, NotFoundError
from pravis_api.schemas.problem import problem_responses
from pravis_api.schemas.voice import SpeechRequest, TranscriptionReply, VoicePublic
from pravis_api.services.audio import ACCEPTED_FORMATS_TEXT
from pravis_api.services.speech.encoding import SPEECH_FORMATS
from pravis_api.services.voice import raise_for_audio_error

router = APIRouter(prefix="/voice", tags=["speech"])

_SPEECH_NAME = re.compile(r"^(?P<key>[0-9a-f]{40})\.(?P<format>ogg|mp3|wav)$")


@router.post(
    "/transcribe",
    response_model=TranscriptionReply,
    responses=problem_responses(413, 415, 422, 502, 503, 504),
    dependencies=[Depends(upload_gate(DICTATION_UPLOADS))],
)
async def transcribe(
    resources: ResourcesDep,
    settings: SettingsDep,
    audio: Annotated[
        UploadFile | None,
        File(description=f"The recording: {ACCEPTED_FORMATS_TEXT}."),
    ] = None,
) -> TranscriptionReply:
    """Transcribe any English speech with the general dictation model, or
    with the cloud speech-to-text provider when one is configured."""
    data = await read_audio(require_audio(audio), settings.voice_max_upload_bytes)
    dictation = resources.providers.dictation
    result = await dictation.transcribe(
        data, max_seconds=settings.voice_max_audio_seconds
    )
    raise_for_audio_error(result)
    return TranscriptionReply(
        transcript=result.transcript,
        duration_s=round(result.duration_s, 3),
        engine=dictation.engine,
    )


@router.post(
    "/speech",
    response_class=Response,
    responses={
        200: {"content": {media: {} for media in SPEECH_FORMATS.values()}},
        **problem_responses(422, 502, 503, 504),
    },
)
async def synthesise(
    request: SpeechRequest, speech: SpeechServiceDep, settings: SettingsDep
) -> Response:
    """Speak a text; the audio comes back with `X-Cache: HIT` or `MISS`."""
    if len(request.text) > settings.voice_max_text_chars:
        message = (
            f"The text has {len(request.text)} characters; the maximum is "
            f"{settings.voice_max_text_chars}. Send a shorter text."
        )
        raise InvalidInputError(message, errors=[FieldError("text", message)])
    voice = speech.resolve_voice(request.voice)
    result = await speech.speak(request.text, voice, request.format)
    return Response(
        result.data,
        media_type=result.content_type,
        headers={"X-Cache": result.cache, "X-Speech-URL": result.url},
    )


@router.get(
    "/speech/{name}",
    response_class=Response,
    responses={
        200: {"content": {media: {} for media in SPEECH_FORMATS.values()}},
        **problem_responses(404, 422),
    },
)
async def cached_speech(name: str, speech: SpeechServiceDep) -> Response:
    """Fetch speech synthesised earlier, by the URL a voice reply gave."""
    match = _SPEECH_NAME.match(name)
    data = await speech.cached(match["key"], match["format"]) if match else None
    if match is None or data is None:
        raise NotFoundError(
            "No speech is cached under that name; it may have expired. Ask for "
            "it again with POST /api/v1/voice/speech."
        )
    return Response(
        data,
        media_type=SPEECH_FORMATS[match["format"]],
        headers={"Cache-Control": "public, max-age=86400, immutable"},
    )


@router.get("/voices", response_model=list[VoicePublic])
async def voices(speech: SpeechServiceDep) -> list[VoicePublic]:
    """List the voices of the text-to-speech provider."""
    return [
        VoicePublic(
            id=voice.id, name=voice.name, language=voice.language, gender=voice.gender
        )
        for voice in speech.voices
    ]
