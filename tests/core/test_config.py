from pathlib import Path

import pytest
from pydantic import ValidationError

from pravis_api.core.config import AZURITE_CONNECTION_STRING, Settings

STRONG_KEY = "k" * 48


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_settings_defaults_work_locally() -> None:
    config = settings()
    assert config.environment == "development"
    assert config.access_token_expire_minutes == 30
    assert (
        config.sqlalchemy_database_url
        == "postgresql+asyncpg://postgres@127.0.0.1:5432/pravis"
    )
    assert config.blob_connection_string == AZURITE_CONNECTION_STRING
    assert config.voice_max_upload_bytes == 10 * 1024 * 1024
    assert config.voice_max_audio_seconds == 30


def test_settings_database_url_from_parts() -> None:
    config = settings(
        db_host="db.internal",
        db_port=6543,
        db_name="shop",
        db_user="app",
        db_password="p@ss:word",
    )
    assert config.sqlalchemy_database_url == (
        "postgresql+asyncpg://app:p%40ss%3Aword@db.internal:6543/shop"
    )


def test_settings_database_url_wins_over_parts() -> None:
    config = settings(
        database_url="postgres://u:secret@h:5433/other", db_name="ignored"
    )
    assert (
        config.sqlalchemy_database_url == "postgresql+asyncpg://u:secret@h:5433/other"
    )
    assert config.database_url_for_logs == "postgresql+asyncpg://u:***@h:5433/other"


def test_settings_rejects_other_databases() -> None:
    with pytest.raises(ValidationError, match="postgresql://"):
        settings(database_url="mysql://u@h/db")


def test_settings_rejects_unknown_environment() -> None:
    with pytest.raises(ValidationError, match="environment"):
        settings(environment="qa")


@pytest.mark.parametrize("environment", ["staging", "production"])
@pytest.mark.parametrize("key", ["your-secret-key", "change-me"])
def test_settings_placeholder_key_rejected(environment: str, key: str) -> None:
    with pytest.raises(ValidationError) as error:
        settings(environment=environment, secret_key=key)
    message = str(error.value)
    assert "SECRET_KEY is a placeholder" in message
    assert "secrets.token_urlsafe" in message


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_settings_missing_key_rejected(environment: str) -> None:
    with pytest.raises(ValidationError) as error:
        settings(environment=environment)
    assert "SECRET_KEY is not set" in str(error.value)
    assert "secrets.token_urlsafe" in str(error.value)


def test_settings_development_generates_key() -> None:
    first, second = settings(), settings()
    assert first.secret_key_is_generated
    assert len(first.secret_key.get_secret_value()) >= 32
    assert first.secret_key != second.secret_key
    assert not settings(secret_key=STRONG_KEY).secret_key_is_generated


def test_settings_errors_do_not_echo_secrets() -> None:
    with pytest.raises(ValidationError) as error:
        settings(
            environment="production",
            secret_key="short-secret",
            azure_storage_connection_string="AccountKey=blob-secret",
            database_url="postgresql://u:db-secret@h/db",
        )
    message = str(error.value)
    for secret in ("short-secret", "blob-secret", "db-secret"):
        assert secret not in message


def test_settings_sslmode_becomes_asyncpg_ssl() -> None:
    config = settings(
        database_url="postgresql://u:p@db.example:5432/shop?sslmode=require"
    )
    assert config.sqlalchemy_database_url == (
        "postgresql+asyncpg://u:p@db.example:5432/shop?ssl=require"
    )


def test_settings_short_key_rejected_in_production() -> None:
    with pytest.raises(ValidationError, match="fewer than the 32 required"):
        settings(environment="production", secret_key="x" * 31)


def test_settings_strong_key_accepted_in_production() -> None:
    assert (
        settings(environment="production", secret_key=STRONG_KEY).environment
        == "production"
    )


def test_settings_reads_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "APP_NAME=Test Boutique\nACCESS_TOKEN_EXPIRE_MINUTES=45\n"
        "FRONTEND_URL=https://shop.example, https://admin.example/\n"
        "AZURE_LOG_ANALYTICS_WORKSPACE_ID=legacy-id\n"
    )
    config = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert config.app_name == "Test Boutique"
    assert config.access_token_expire_minutes == 45
    assert config.cors_origins == ["https://shop.example", "https://admin.example"]
    assert config.azure_log_analytics_workspace_id == "legacy-id"


def test_settings_reads_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPEECH_WORKERS", "3")
    monkeypatch.setenv("VOICE_MAX_AUDIO_SECONDS", "12.5")
    config = settings()
    assert config.speech_workers == 3
    assert config.voice_max_audio_seconds == 12.5


def test_settings_secrets_hidden_from_logs() -> None:
    config = settings(
        database_url="postgresql://u:db-secret@h/db",
        redis_url="rediss://:redis-secret@cache:6380/0",
        secret_key=STRONG_KEY,
        azure_storage_connection_string="AccountKey=blob-secret",
    )
    text = repr(config) + str(config.summary_for_logs())
    for secret in ("db-secret", "redis-secret", STRONG_KEY, "blob-secret"):
        assert secret not in text


def test_settings_container_name_validated() -> None:
    with pytest.raises(ValidationError, match="azure_storage_container_name"):
        settings(azure_storage_container_name="Recordings_2026")


def test_settings_account_defaults() -> None:
    config = settings()
    assert config.refresh_token_expire_days == 14
    assert config.password_reset_token_expire_minutes == 30
    assert config.voice_store_recordings_default is False
    assert config.voice_retention_days == 90
    assert config.smtp_security == "none"


@pytest.mark.parametrize(
    "url",
    ["ftp://shop.example.com/reset", "/reset-password", "https://shop/r?x=1"],
)
def test_settings_password_reset_url_validated(url: str) -> None:
    with pytest.raises(ValidationError, match="PASSWORD_RESET_URL"):
        settings(password_reset_url=url)


@pytest.mark.parametrize("sender", ["", "Pravis Boutique", "no-reply"])
def test_settings_smtp_sender_validated(sender: str) -> None:
    with pytest.raises(ValidationError, match="SMTP_SENDER"):
        settings(smtp_sender=sender)


def test_settings_smtp_password_hidden_from_logs() -> None:
    config = settings(smtp_password="mail-secret-1234")
    assert "mail-secret-1234" not in repr(config) + str(config.summary_for_logs())


def test_settings_serving_defaults() -> None:
    config = settings()
    assert config.host == "127.0.0.1"
    assert config.port == 8000
    assert config.web_concurrency == 1
    assert config.forwarded_allow_ips == "127.0.0.1,::1"
    assert config.trusts_proxy_headers
    assert config.graceful_shutdown_timeout_seconds == 15


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" 10.0.0.7/16 , 127.0.0.1", "10.0.0.0/16,127.0.0.1"),
        ("::1,fd00::/8", "::1,fd00::/8"),
        ("*", "*"),
        (" * ", "*"),
        ("", ""),
    ],
)
def test_settings_forwarded_allow_ips_normalized(value: str, expected: str) -> None:
    assert settings(forwarded_allow_ips=value).forwarded_allow_ips == expected


def test_settings_empty_forwarded_allow_ips_trusts_nobody() -> None:
    assert not settings(forwarded_allow_ips="").trusts_proxy_headers


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("10.0.0.300", "'10.0.0.300' is not an IP address"),
        ("localhost", "'localhost' is not an IP address"),
        ("10.0.0.0/40", "'10.0.0.0/40' is not an IP address"),
        ("*,10.0.0.1", "combines `*` with addresses"),
    ],
)
def test_settings_forwarded_allow_ips_rejected(value: str, message: str) -> None:
    with pytest.raises(ValidationError) as error:
        settings(forwarded_allow_ips=value)
    assert message in str(error.value)


@pytest.mark.parametrize(
    "values",
    [
        {"port": 0},
        {"port": 70000},
        {"web_concurrency": 0},
        {"graceful_shutdown_timeout_seconds": 0},
        {"host": ""},
    ],
)
def test_settings_serving_values_rejected(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        settings(**values)


def test_settings_providers_default_to_local() -> None:
    config = settings()
    assert config.speech_to_text_provider == "local"
    assert config.reply_provider == "local"
    assert config.text_to_speech_provider == "local"
    assert config.tts_default_voice is None


@pytest.mark.parametrize(
    "stage", ["speech_to_text_provider", "text_to_speech_provider"]
)
def test_settings_azure_needs_key(stage: str) -> None:
    with pytest.raises(ValidationError, match="AZURE_SPEECH_KEY is not set"):
        settings(**{stage: "azure"}, azure_speech_region="westeurope")


def test_settings_azure_needs_region_or_endpoint() -> None:
    with pytest.raises(ValidationError, match="AZURE_SPEECH_REGION is not set"):
        settings(text_to_speech_provider="azure", azure_speech_key="k" * 32)
    # An endpoint of its own replaces the region for that stage only.
    config = settings(
        text_to_speech_provider="azure",
        azure_speech_key="k" * 32,
        azure_speech_tts_endpoint="http://127.0.0.1:9/cognitiveservices/v1",
    )
    assert config.azure_tts_url == "http://127.0.0.1:9/cognitiveservices/v1"


def test_settings_azure_urls_from_region() -> None:
    config = settings(
        speech_to_text_provider="azure",
        text_to_speech_provider="azure",
        azure_speech_key="k" * 32,
        azure_speech_region="westeurope",
    )
    assert config.azure_stt_url == (
        "https://westeurope.stt.speech.microsoft.com"
        "/speech/recognition/conversation/cognitiveservices/v1"
    )
    assert config.azure_tts_url == (
        "https://westeurope.tts.speech.microsoft.com/cognitiveservices/v1"
    )


def test_settings_rejects_bad_azure_region() -> None:
    with pytest.raises(ValidationError, match="azure_speech_region"):
        settings(azure_speech_region="https://westeurope")


def test_settings_openai_needs_key_for_openai_com() -> None:
    with pytest.raises(ValidationError, match="OPENAI_API_KEY is not set"):
        settings(reply_provider="openai")
    config = settings(
        reply_provider="openai", openai_base_url="http://127.0.0.1:8080/v1/"
    )
    assert config.openai_base_url == "http://127.0.0.1:8080/v1"


def test_settings_rejects_bad_openai_base_url() -> None:
    with pytest.raises(ValidationError, match="OPENAI_BASE_URL must be"):
        settings(openai_base_url="api.openai.com/v1")


def test_settings_provider_keys_stay_hidden() -> None:
    config = settings(
        speech_to_text_provider="azure",
        reply_provider="openai",
        azure_speech_key="azure-secret-key-1234",
        azure_speech_region="westeurope",
        openai_api_key="sk-secret-5678",
    )
    logged = repr(config.summary_for_logs()) + repr(config)
    assert "azure-secret-key-1234" not in logged
    assert "sk-secret-5678" not in logged
    assert config.summary_for_logs()["speech_to_text_provider"] == "azure"


def test_settings_validation_error_hides_keys() -> None:
    with pytest.raises(ValidationError) as caught:
        settings(
            text_to_speech_provider="azure",
            azure_speech_key="azure-secret-key-1234",
        )
    assert "azure-secret-key-1234" not in str(caught.value)


def test_settings_cache_and_limit_defaults() -> None:
    config = settings()
    assert config.cache_enabled is True
    assert config.cache_ttl_seconds == 300
    assert config.cache_max_bytes == 100 * 1024
    assert config.rate_limit_enabled is True
    assert config.rate_limit_login == "10/minute"
    # A reverse proxy on the same machine, as uvicorn trusts by default.
    assert [str(network) for network in config.trusted_proxy_networks] == [
        "127.0.0.1/32",
        "::1/128",
    ]


@pytest.mark.parametrize("value", ["ten per minute", "10/fortnight", ""])
def test_settings_rate_limit_validated(value: str) -> None:
    with pytest.raises(ValidationError, match="not a rate limit"):
        settings(rate_limit_login=value)


def test_settings_rate_limit_several_windows() -> None:
    assert settings(rate_limit_voice="10/minute;100/hour").rate_limit_voice


def test_settings_trusted_proxy_networks() -> None:
    config = settings(forwarded_allow_ips="10.0.0.5, 10.1.0.0/16,::1")
    assert [str(network) for network in config.trusted_proxy_networks] == [
        "10.0.0.5/32",
        "10.1.0.0/16",
        "::1/128",
    ]
    everyone = settings(forwarded_allow_ips="*").trusted_proxy_networks
    assert [str(network) for network in everyone] == ["0.0.0.0/0", "::/0"]
    assert settings(forwarded_allow_ips="").trusted_proxy_networks == []


def test_settings_frontend_origins() -> None:
    config = settings(frontend_url="https://shop.example.com/, http://localhost:5173")
    assert config.cors_origins == ["https://shop.example.com", "http://localhost:5173"]


@pytest.mark.parametrize(
    "value", ["shop.example.com", "https://shop.example.com/app", "ftp://x.example"]
)
def test_settings_frontend_url_validated(value: str) -> None:
    with pytest.raises(ValidationError, match="FRONTEND_URL"):
        settings(frontend_url=value)
