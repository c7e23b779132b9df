"""Choosing the providers of each stage from the settings."""

from typing import Any

import pytest
from fastapi import FastAPI

from pravis_api.services.providers.azure_speech import (
    AzureSpeechToText,
    AzureTextToSpeech,
)
from pravis_api.services.providers.local import LocalSpeechToText, LocalTextToSpeech
from pravis_api.services.providers.openai_compatible import (
    OpenAIReplyWriter,
    OpenAITextToSpeech,
)
from pravis_api.services.providers.registry import Providers, open_providers
from tests.conftest import make_settings


async def providers_for(app: FastAPI, **values: Any) -> Providers:
    resources = app.state.resources
    providers = open_providers(
        make_settings(**values),
        speech_pool=resources.speech_pool,
        dictation_pool=resources.dictation_pool,
        speech_models=resources.speech_models,
    )
    await providers.aclose()
    return providers


async def test_registry_defaults_to_local(app: FastAPI) -> None:
    providers = await providers_for(app)

    assert isinstance(providers.speech_to_text, LocalSpeechToText)
    assert providers.speech_to_text.engine == "pocketsphinx"
    assert providers.dictation.engine == "pocketsphinx/general-en-us"
    assert isinstance(providers.text_to_speech, LocalTextToSpeech)
    assert providers.reply_writer is None
    assert providers.http_clients == []


async def test_registry_mixes_providers_per_stage(app: FastAPI) -> None:
    providers = await providers_for(
        app,
        speech_to_text_provider="azure",
        reply_provider="openai",
        text_to_speech_provider="openai",
        azure_speech_key="azure-key",
        azure_speech_region="westeurope",
        openai_api_key="sk-key",
    )

    assert isinstance(providers.speech_to_text, AzureSpeechToText)
    assert providers.dictation is providers.speech_to_text
    assert isinstance(providers.reply_writer, OpenAIReplyWriter)
    assert isinstance(providers.text_to_speech, OpenAITextToSpeech)
    assert len(providers.http_clients) == 2
    azure_client = providers.speech_to_text.http.client
    assert azure_client.headers["Ocp-Apim-Subscription-Key"] == "azure-key"


async def test_registry_rejects_voice_of_other_provider(app: FastAPI) -> None:
    with pytest.raises(ValueError, match="TTS_DEFAULT_VOICE 'en-us-f'"):
        await providers_for(
            app,
            text_to_speech_provider="azure",
            azure_speech_key="azure-key",
            azure_speech_region="westeurope",
            tts_default_voice="en-us-f",
        )
    providers = await providers_for(
        app,
        text_to_speech_provider="azure",
        azure_speech_key="azure-key",
        azure_speech_region="westeurope",
        tts_default_voice="en-GB-RyanNeural",
    )
    assert isinstance(providers.text_to_speech, AzureTextToSpeech)
