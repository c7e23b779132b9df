"""Build the providers that the settings choose for each stage."""

import asyncio
from dataclasses import dataclass, field

import httpx

from pravis_api.core.config import Settings
from pravis_api.services.providers import azure_speech, openai_compatible
from pravis_api.services.providers.base import ReplyWriter, SpeechToText, TextToSpeech
from pravis_api.services.providers.http import ProviderHttp, create_http_client
from pravis_api.services.providers.local import LocalSpeechToText, LocalTextToSpeech
from pravis_api.services.speech.models import SpeechModels
from pravis_api.services.speech_pool import SpeechWorkerPool


@dataclass(slots=True)
class Providers:
    # The assistant's recogniser, and the one of POST /voice/transcribe.
    speech_to_text: SpeechToText
    dictation: SpeechToText
    text_to_speech: TextToSpeech
    # None: the assistant's template replies are sent as they are.
    reply_writer: ReplyWriter | None
    http_clients: list[httpx.AsyncClient] = field(default_factory=list)

    async def aclose(self) -> None:
        await asyncio.gather(*(client.aclose() for client in self.http_clients))


TEXT_TO_SPEECH_CLASSES: dict[
    str,
    type[LocalTextToSpeech]
    | type[azure_speech.AzureTextToSpeech]
    | type[openai_compatible.OpenAITextToSpeech],
] = {
    "local": LocalTextToSpeech,
    "azure": azure_speech.AzureTextToSpeech,
    "openai": openai_compatible.OpenAITextToSpeech,
}


def check_default_voice(settings: Settings) -> None:
    """Raise ValueError if TTS_DEFAULT_VOICE is not a voice of the provider."""
    provider = TEXT_TO_SPEECH_CLASSES[settings.text_to_speech_provider]
    voice_id = settings.tts_default_voice
    known = [voice.id for voice in provider.voices]
    if voice_id is not None and voice_id not in known:
        raise ValueError(
            f"TTS_DEFAULT_VOICE {voice_id!r} is not a voice of the "
            f"{settings.text_to_speech_provider} text-to-speech provider. Choose "
            f"one of: {', '.join(known)}, or unset it for {provider.default_voice}"
        )


def _provider_http(
    settings: Settings, name: str, title: str, auth_headers: dict[str, str]
) -> ProviderHttp:
    return ProviderHttp(
        name,
        title,
        create_http_client(settings.provider_timeout_seconds, auth_headers),
        max_retries=settings.provider_max_retries,
        max_retry_after_seconds=settings.provider_max_retry_after_seconds,
    )


def open_providers(
    settings: Settings,
    *,
    speech_pool: SpeechWorkerPool,
    dictation_pool: SpeechWorkerPool,
    speech_models: SpeechModels,
) -> Providers:
    """Create the providers and one HTTP client per cloud provider in use.

    Creating them opens no connection. Raises ValueError when the default
    voice does not belong to the text-to-speech provider.
    """
    check_default_voice(settings)
    azure: ProviderHttp | None = None
    openai: ProviderHttp | None = None
    if settings.stages_using("azure"):
        # The settings check that the key is set when a stage uses Azure.
        key = settings.azure_speech_key
        azure = _provider_http(
            settings,
            azure_speech.PROVIDER_NAME,
            azure_speech.PROVIDER_TITLE,
            {azure_speech.KEY_HEADER: key.get_secret_value() if key else ""},
        )
    if settings.stages_using("openai"):
        key = settings.openai_api_key
        openai = _provider_http(
            settings,
            openai_compatible.PROVIDER_NAME,
            openai_compatible.PROVIDER_TITLE,
            {"Authorization": f"Bearer {key.get_secret_value()}"} if key else {},
        )

    speech_to_text: SpeechToText
    dictation: SpeechToText
    if settings.speech_to_text_provider == "azure" and azure is not None:
        speech_to_text = dictation = azure_speech.AzureSpeechToText(
            azure,
            speech_pool,
            url=settings.azure_stt_url,
            language=settings.azure_speech_language,
        )
    elif settings.speech_to_text_provider == "openai" and openai is not None:
        speech_to_text = dictation = openai_compatible.OpenAISpeechToText(
            openai,
            speech_pool,
            base_url=settings.openai_base_url,
            model=settings.openai_transcription_model,
            response_format=settings.openai_transcription_format,
        )
    else:
        speech_to_text = LocalSpeechToText(speech_pool, speech_models)
        dictation = LocalSpeechToText(dictation_pool)

    text_to_speech: TextToSpeech
    if settings.text_to_speech_provider == "azure" and azure is not None:
        text_to_speech = azure_speech.AzureTextToSpeech(
            azure, url=settings.azure_tts_url
        )
    elif settings.text_to_speech_provider == "openai" and openai is not None:
        text_to_speech = openai_compatible.OpenAITextToSpeech(
            openai,
            base_url=settings.openai_base_url,
            model=settings.openai_speech_model,
        )
    else:
        text_to_speech = LocalTextToSpeech(
            speech_pool, words_per_minute=settings.tts_words_per_minute
        )

    reply_writer: ReplyWriter | None = None
    if settings.reply_provider == "openai" and openai is not None:
        reply_writer = openai_compatible.OpenAIReplyWriter(
            openai, base_url=settings.openai_base_url, model=settings.openai_chat_model
        )

    clients = [http.client for http in (azure, openai) if http is not None]
    return Providers(speech_to_text, dictation, text_to_speech, reply_writer, clients)
