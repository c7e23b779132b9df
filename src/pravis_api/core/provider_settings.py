"""Settings of the speech and reply providers, chosen per pipeline stage.

Settings inherits these fields; they live here to keep the main settings
module small. Every stage defaults to the embedded engines, so nothing here
needs a cloud account unless a stage is switched to one.
"""

from typing import Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

SpeechProviderName = Literal["local", "azure", "openai"]
ReplyProviderName = Literal["local", "openai"]

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"


def _http_url(value: str, variable: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"{variable} must be an http:// or https:// URL with a host, for "
            "example https://api.openai.com/v1"
        )
    return value.rstrip("/")


class ProviderSettings(BaseModel):
    """The provider of each stage, and the settings to reach cloud providers."""

    # local: PocketSphinx in the speech workers; azure: Azure AI Speech;
    # openai: an OpenAI-compatible /audio/transcriptions endpoint.
    speech_to_text_provider: SpeechProviderName = "local"
    # local: the assistant's own templates; openai: chat completions write
    # the reply from the same catalogue rows and policies.
    reply_provider: ReplyProviderName = "local"
    # local: eSpeak NG in the speech workers; azure or openai as above.
    text_to_speech_provider: SpeechProviderName = "local"

    # Seconds one request to a provider may take, connecting included.
    provider_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Retries after a connection error, a 429 or a 5xx response. A 4xx other
    # than 429 and a timed-out request are never retried.
    provider_max_retries: int = Field(default=2, ge=0, le=5)
    # The longest Retry-After a provider may ask for and still be retried;
    # a longer one fails the request at once.
    provider_max_retry_after_seconds: float = Field(default=5.0, ge=0, le=60)

    azure_speech_key: SecretStr | None = None
    # The Speech resource's region, such as westeurope; it names the hosts
    # {region}.stt.speech.microsoft.com and {region}.tts.speech.microsoft.com.
    azure_speech_region: str | None = Field(
        default=None, pattern=r"^[a-z0-9]+$", max_length=32
    )
    # Full URLs that replace the regional endpoints: the speech-to-text REST
    # API for short audio and the text-to-speech REST API.
    azure_speech_stt_endpoint: str | None = None
    azure_speech_tts_endpoint: str | None = None
    # The BCP 47 language that speech is recognised in.
    azure_speech_language: str = Field(
        default="en-US", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
    )

    openai_base_url: str = OPENAI_DEFAULT_BASE_URL
    openai_api_key: SecretStr | None = None
    openai_transcription_model: str = Field(default="whisper-1", min_length=1)
    # verbose_json returns segments with log probabilities, from which word
    # confidence is derived; gpt-4o-transcribe models accept only json.
    openai_transcription_format: Literal["json", "verbose_json"] = "verbose_json"
    openai_chat_model: str = Field(default="gpt-4o-mini", min_length=1)
    openai_speech_model: str = Field(default="tts-1", min_length=1)

    @field_validator("azure_speech_stt_endpoint", "azure_speech_tts_endpoint")
    @classmethod
    def _check_azure_endpoint(
        cls, value: str | None, info: ValidationInfo
    ) -> str | None:
        if value is None:
            return None
        return _http_url(value, str(info.field_name).upper())

    @field_validator("openai_base_url")
    @classmethod
    def _check_openai_base_url(cls, value: str) -> str:
        return _http_url(value, "OPENAI_BASE_URL")

    @model_validator(mode="after")
    def _check_providers(self) -> "ProviderSettings":
        self._check_azure()
        self._check_openai()
        return self

    def _check_azure(self) -> None:
        stages = self.stages_using("azure")
        if not stages:
            return
        chosen = " and ".join(stages)
        key = self.azure_speech_key
        if key is None or not key.get_secret_value():
            raise ValueError(
                f"AZURE_SPEECH_KEY is not set, but {chosen} is set to azure. Set it "
                "to a key of the Speech resource (Azure portal, Keys and Endpoint)"
            )
        endpoints = {
            "SPEECH_TO_TEXT_PROVIDER": self.azure_speech_stt_endpoint,
            "TEXT_TO_SPEECH_PROVIDER": self.azure_speech_tts_endpoint,
        }
        for stage in stages:
            if self.azure_speech_region is None and endpoints[stage] is None:
                raise ValueError(
                    f"AZURE_SPEECH_REGION is not set, but {stage} is set to azure. "
                    "Set it to the Speech resource's region, for example westeurope"
                )

    def _check_openai(self) -> None:
        stages = self.stages_using("openai")
        if not stages or self.openai_api_key is not None:
            return
        if urlsplit(self.openai_base_url).hostname == "api.openai.com":
            raise ValueError(
                f"OPENAI_API_KEY is not set, but {' and '.join(stages)} is set to "
                "openai with OPENAI_BASE_URL at api.openai.com. Set the key, or "
                "point OPENAI_BASE_URL at a server that needs none"
            )

    def stages_using(self, provider: str) -> list[str]:
        """Return the setting names of the stages served by `provider`."""
        stages = {
            "SPEECH_TO_TEXT_PROVIDER": self.speech_to_text_provider,
            "REPLY_PROVIDER": self.reply_provider,
            "TEXT_TO_SPEECH_PROVIDER": self.text_to_speech_provider,
        }
        return [stage for stage, chosen in stages.items() if chosen == provider]

    @property
    def azure_stt_url(self) -> str:
        if self.azure_speech_stt_endpoint is not None:
            return self.azure_speech_stt_endpoint
        return (
            f"https://{self.azure_speech_region}.stt.speech.microsoft.com"
            "/speech/recognition/conversation/cognitiveservices/v1"
        )

    @property
    def azure_tts_url(self) -> str:
        if self.azure_speech_tts_endpoint is not None:
            return self.azure_speech_tts_endpoint
        return (
            f"https://{self.azure_speech_region}.tts.speech.microsoft.com"
            "/cognitiveservices/v1"
        )

    def providers_for_logs(self) -> dict[str, object]:
        """Return the providers of each stage and their hosts, without keys."""
        summary: dict[str, object] = {
            "speech_to_text_provider": self.speech_to_text_provider,
            "reply_provider": self.reply_provider,
            "text_to_speech_provider": self.text_to_speech_provider,
        }
        if self.stages_using("openai"):
            summary["openai_base_url"] = self.openai_base_url
        if self.stages_using("azure"):
            summary["azure_speech_region"] = self.azure_speech_region
        return summary
