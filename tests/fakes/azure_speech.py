"""A fake of Azure AI Speech's REST APIs: speech to text for short audio and
text to speech with SSML.

It checks requests as Microsoft Learn documents them ("Speech to text REST
API for short audio", "Text to speech REST API") and answers with the
documented statuses: 401 for a wrong key (403 for a missing one on speech
to text), 415 for a wrong content type, 400 for a missing language, audio
that is not 16 kHz mono 16-bit WAV, an unknown output format, a missing
User-Agent, or SSML that is not well formed or lacks speak or voice.
"""

import io
import json
import wave
import xml.etree.ElementTree as ElementTree

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.audio import tone
from tests.fakes.server import FakeControl, scripted_response

STT_PATH = "/speech/recognition/conversation/cognitiveservices/v1"
TTS_PATH = "/cognitiveservices/v1"
KEY_HEADER = "ocp-apim-subscription-key"
STT_CONTENT_TYPES = {
    "audio/wav;codecs=audio/pcm;samplerate=16000",
    "audio/ogg;codecs=opus",
}
SSML_NAMESPACE = "{http://www.w3.org/2001/10/synthesis}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Output formats and the format of the audio the fake returns for each.
OUTPUT_FORMATS = {
    "ogg-16khz-16bit-mono-opus": "ogg",
    "ogg-24khz-16bit-mono-opus": "ogg",
    "ogg-48khz-16bit-mono-opus": "ogg",
    "audio-16khz-32kbitrate-mono-mp3": "mp3",
    "audio-24khz-48kbitrate-mono-mp3": "mp3",
    "audio-24khz-96kbitrate-mono-mp3": "mp3",
    "riff-16khz-16bit-mono-pcm": "wav",
    "riff-24khz-16bit-mono-pcm": "wav",
}
AUDIO_TYPES = {"ogg": "audio/ogg", "mp3": "audio/mpeg", "wav": "audio/x-wav"}
DEFAULT_TRANSCRIPT = "show me red dresses under one hundred dollars"


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": {"code": str(status), "message": message}}, status)


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").replace(" ", "").lower()


def _check_key(control: FakeControl, request: Request, missing: int) -> Response | None:
    key = request.headers.get(KEY_HEADER)
    if key is None:
        return _error(missing, "The resource key is missing.")
    if key != control.key:
        return _error(401, "Access denied due to an invalid subscription key.")
    return None


def _check_wav(body: bytes) -> str | None:
    """Return what is wrong with a short-audio WAV body, or None."""
    try:
        with wave.open(io.BytesIO(body), "rb") as reader:
            shape = (reader.getframerate(), reader.getnchannels())
            width = reader.getsampwidth()
            frames = reader.getnframes()
    except (wave.Error, EOFError):
        return "the body is not a WAV file"
    if shape != (16000, 1) or width != 2:
        return f"the audio is {shape[0]} Hz, {shape[1]} channels, {width * 8}-bit"
    if frames > 16000 * 60:
        return "the audio is longer than 60 seconds"
    return None


def _recognition(control: FakeControl) -> dict[str, object]:
    status = control.options.get("recognition_status", "Success")
    if status != "Success":
        return {"RecognitionStatus": status, "Offset": 0, "Duration": 0}
    lexical = str(control.options.get("transcript", DEFAULT_TRANSCRIPT))
    confidence = float(control.options.get("confidence", 0.93))
    display = lexical[:1].upper() + lexical[1:] + "."
    return {
        "RecognitionStatus": "Success",
        "Offset": 1_800_000,
        "Duration": 21_000_000,
        "NBest": [
            {
                "Confidence": confidence,
                "Lexical": lexical,
                "ITN": lexical,
                "MaskedITN": lexical,
                "Display": display,
            }
        ],
    }


def _parse_ssml(body: bytes) -> tuple[dict[str, object] | None, str]:
    """Return the voices and texts of an SSML document, or why it is invalid."""
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 (our own test requests)
    except ElementTree.ParseError as exc:
        return None, f"the SSML is not well-formed XML: {exc}"
    if root.tag != f"{SSML_NAMESPACE}speak":
        return None, "the root element is not speak in the SSML namespace"
    if root.get("version") != "1.0" or not root.get(XML_LANG):
        return None, "speak lacks version='1.0' or xml:lang"
    voices = root.findall(f"{SSML_NAMESPACE}voice")
    if not voices or any(not voice.get("name") for voice in voices):
        return None, "the SSML has no voice element with a name"
    parsed = {
        "language": root.get(XML_LANG),
        "voices": [voice.get("name") for voice in voices],
        "text": "".join("".join(voice.itertext()) for voice in voices),
    }
    return parsed, ""


def azure_speech_app(control: FakeControl) -> Starlette:
    async def recognize(request: Request) -> Response:
        recorded, scripted = await control.record(request)
        if (failure := scripted_response(scripted)) is not None:
            return failure
        if (rejected := _check_key(control, request, missing=403)) is not None:
            return rejected
        if _content_type(request) not in STT_CONTENT_TYPES:
            return _error(415, "Unsupported Content-Type for audio.")
        if "language" not in request.query_params:
            return _error(400, "The language query parameter is required.")
        if request.query_params.get("format", "simple") not in ("simple", "detailed"):
            return _error(400, "format must be simple or detailed.")
        if (problem := _check_wav(recorded.body)) is not None:
            return _error(400, f"Invalid audio: {problem}.")
        result = _recognition(control)
        recorded.parsed = result
        return Response(json.dumps(result), media_type="application/json")

    async def synthesize(request: Request) -> Response:
        recorded, scripted = await control.record(request)
        if (failure := scripted_response(scripted)) is not None:
            return failure
        if (rejected := _check_key(control, request, missing=401)) is not None:
            return rejected
        if _content_type(request) != "application/ssml+xml":
            return _error(415, "Content-Type must be application/ssml+xml.")
        output = OUTPUT_FORMATS.get(request.headers.get("x-microsoft-outputformat", ""))
        if output is None:
            return _error(400, "X-Microsoft-OutputFormat is missing or unknown.")
        agent = request.headers.get("user-agent", "")
        if not agent or len(agent) >= 255:
            return _error(400, "User-Agent is required, fewer than 255 characters.")
        parsed, problem = _parse_ssml(recorded.body)
        if parsed is None:
            return _error(400, f"Invalid SSML: {problem}.")
        recorded.parsed = parsed
        return Response(tone(output), media_type=AUDIO_TYPES[output])

    return Starlette(
        routes=[
            Route(STT_PATH, recognize, methods=["POST"]),
            Route(TTS_PATH, synthesize, methods=["POST"]),
        ]
    )
