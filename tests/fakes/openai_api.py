"""A fake of an OpenAI-compatible server: /v1/audio/transcriptions,
/v1/chat/completions and /v1/audio/speech.

It checks requests as OpenAI's API reference describes them and answers
errors in OpenAI's error shape: 401 without `Authorization: Bearer <key>`,
400 for a body of the wrong content type, a missing multipart field, an
audio file of an unknown format, missing messages, or an unknown voice or
response format.
"""

import json
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pravis_api.services.audio import sniff_container
from tests.fakes.audio import tone
from tests.fakes.server import FakeControl, scripted_response

TRANSCRIPTION_FORMATS = {"json", "text", "srt", "verbose_json", "vtt"}
VOICES = {"alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova"}
VOICES |= {"sage", "shimmer", "verse"}
# response_format of /audio/speech, and the audio the fake returns for each.
SPEECH_FORMATS = {"mp3": "mp3", "opus": "ogg", "wav": "wav"}
AUDIO_TYPES = {"mp3": "audio/mpeg", "ogg": "audio/ogg", "wav": "audio/wav"}
DEFAULT_TRANSCRIPT = "show me red dresses under one hundred dollars"
DEFAULT_REPLY = "Here are our red dresses under one hundred dollars."


def _error(status: int, message: str, code: str | None = None) -> Response:
    body = {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": None,
            "code": code,
        }
    }
    return JSONResponse(body, status)


def _check_key(control: FakeControl, request: Request) -> Response | None:
    if request.headers.get("authorization") != f"Bearer {control.key}":
        return _error(401, "Incorrect API key provided.", "invalid_api_key")
    return None


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _json_body(request: Request) -> dict[str, Any] | Response:
    if _media_type(request) != "application/json":
        return _error(400, "The body must be JSON (Content-Type: application/json).")
    try:
        body = json.loads(await request.body())
    except ValueError:
        return _error(400, "The body is not valid JSON.")
    if not isinstance(body, dict):
        return _error(400, "The body must be a JSON object.")
    return body


def _transcription(control: FakeControl, response_format: str) -> dict[str, Any]:
    text = str(control.options.get("transcript", DEFAULT_TRANSCRIPT))
    if response_format == "json":
        return {"text": text}
    return {
        "task": "transcribe",
        "language": "english",
        "duration": 2.8,
        "text": text,
        "segments": [
            {
                "id": 0,
                "seek": 0,
                "start": 0.0,
                "end": 2.8,
                "text": f" {text}",
                "tokens": [50364, 2715],
                "temperature": 0.0,
                "avg_logprob": float(control.options.get("avg_logprob", -0.2)),
                "compression_ratio": 1.1,
                "no_speech_prob": float(control.options.get("no_speech_prob", 0.01)),
            }
        ],
    }


def openai_app(control: FakeControl) -> Starlette:
    async def transcriptions(request: Request) -> Response:
        recorded, scripted = await control.record(request)
        if (failure := scripted_response(scripted)) is not None:
            return failure
        if (rejected := _check_key(control, request)) is not None:
            return rejected
        if _media_type(request) != "multipart/form-data":
            return _error(400, "The body must be multipart/form-data.")
        async with request.form() as form:
            upload = form.get("file")
            fields = {key: value for key, value in form.items() if key != "file"}
            if not isinstance(upload, UploadFile):
                return _error(400, "Missing required parameter: 'file'.")
            audio = await upload.read()
            filename = upload.filename or ""
            content_type = upload.content_type
        if not isinstance(fields.get("model"), str) or not fields["model"]:
            return _error(400, "Missing required parameter: 'model'.")
        response_format = str(fields.get("response_format", "json"))
        if response_format not in TRANSCRIPTION_FORMATS:
            return _error(400, f"Invalid response_format {response_format!r}.")
        if sniff_container(audio) is None:
            return _error(400, "Invalid file format. Send flac, mp3, ogg, wav, webm.")
        recorded.parsed = {
            **fields,
            "filename": filename,
            "content_type": content_type,
            "audio_format": sniff_container(audio),
        }
        return JSONResponse(_transcription(control, response_format))

    async def chat(request: Request) -> Response:
        recorded, scripted = await control.record(request)
        if (failure := scripted_response(scripted)) is not None:
            return failure
        if (rejected := _check_key(control, request)) is not None:
            return rejected
        body = await _json_body(request)
        if isinstance(body, Response):
            return body
        messages = body.get("messages")
        if not isinstance(body.get("model"), str) or not isinstance(messages, list):
            return _error(400, "model and messages are required.")
        if not messages or any(
            not isinstance(message, dict)
            or message.get("role") not in ("system", "user", "assistant")
            or not isinstance(message.get("content"), str)
            for message in messages
        ):
            return _error(400, "Each message needs a role and string content.")
        recorded.parsed = body
        if control.options.get("chat_without_choices"):
            return JSONResponse({"id": "chatcmpl-fake", "choices": []})
        reply = str(control.options.get("reply", DEFAULT_REPLY))
        return JSONResponse(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply},
                        "finish_reason": "stop",
                    }
                ],
            }
        )

    async def speech(request: Request) -> Response:
        recorded, scripted = await control.record(request)
        if (failure := scripted_response(scripted)) is not None:
            return failure
        if (rejected := _check_key(control, request)) is not None:
            return rejected
        body = await _json_body(request)
        if isinstance(body, Response):
            return body
        text = body.get("input")
        if not isinstance(body.get("model"), str) or not isinstance(text, str):
            return _error(400, "model and input are required.")
        if not text or len(text) > 4096:
            return _error(400, "input must have 1 to 4096 characters.")
        if body.get("voice") not in VOICES:
            return _error(400, f"Unknown voice {body.get('voice')!r}.")
        output = SPEECH_FORMATS.get(str(body.get("response_format", "mp3")))
        if output is None:
            return _error(400, "Unsupported response_format.")
        recorded.parsed = body
        return Response(tone(output), media_type=AUDIO_TYPES[output])

    return Starlette(
        routes=[
            Route("/v1/audio/transcriptions", transcriptions, methods=["POST"]),
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/audio/speech", speech, methods=["POST"]),
        ]
    )
