"""Settings read from the environment and `.env`, validated at start-up."""

import ipaddress
import os
import secrets
import tempfile
from datetime import timedelta
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from limits import parse_many
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url

from pravis_api.core.provider_settings import ProviderSettings

Environment = Literal["development", "staging", "production"]

# The well-known Azurite account, published in Microsoft's emulator docs. The
# Python SDK does not understand `UseDevelopmentStorage=true`, so it is
# expanded to this explicit connection string.
AZURITE_CONNECTION_STRING = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq"
    "/K1SZFPTOtr/KBHBeksoGMGw==;"
    "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
)

_PLACEHOLDER_SECRET_KEYS = {
    "your-secret-key",
    "change-me",
    "changeme",
    "secret",
}
MIN_SECRET_KEY_LENGTH = 32
SECRET_KEY_HINT = (
    'generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'  # noqa: S105
)


class Settings(BaseSettings, ProviderSettings):
    """Service configuration. Every field maps to the upper-case variable.

    The speech and reply provider settings come from ProviderSettings.
    """

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        case_sensitive=False,
        extra="ignore",
        # Validation errors must not echo values: some are secrets.
        hide_input_in_errors=True,
    )

    app_name: str = "Pravis Boutique API"
    environment: Environment = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Where `pravis-api serve` listens. The container image passes
    # `--host 0.0.0.0` on its command line, so HOST does not apply there.
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=8000, ge=1, le=65535)
    # uvicorn worker processes. Each has its own database pool and its own
    # SPEECH_WORKERS speech processes. uvicorn and gunicorn use the same name.
    # With more than one, the listening socket stays open until every worker
    # has stopped, so connections arriving after SIGTERM wait, not fail fast.
    web_concurrency: int = Field(default=1, ge=1)
    # Peers whose X-Forwarded-For and X-Forwarded-Proto headers are trusted:
    # IP addresses and CIDR networks separated by commas, `*` for any peer,
    # or empty for none.
    forwarded_allow_ips: str = "127.0.0.1,::1"
    # Seconds that requests in flight get to finish after SIGTERM. uvicorn
    # cancels the ones still running after that, and they get 503.
    graceful_shutdown_timeout_seconds: int = Field(default=15, ge=1, le=3600)

    # PostgreSQL: DATABASE_URL wins; otherwise the URL is built from DB_*.
    database_url: SecretStr | None = None
    db_host: str = "127.0.0.1"
    db_port: int = Field(default=5432, ge=1, le=65535)
    db_name: str = "pravis"
    db_user: str = "postgres"
    db_password: SecretStr = SecretStr("")
    # Overflow connections are closed as soon as they are returned, so under
    # steady load they are opened and closed over and over (300 new
    # connections in 10 s at 64 concurrent requests, bench/RESULTS.md).
    # Every connection is kept open instead, and requests wait for a free one.
    db_pool_size: int = Field(default=15, ge=1)
    db_max_overflow: int = Field(default=0, ge=0)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    db_connect_timeout_seconds: float = Field(default=5.0, gt=0)

    # Unset in development: a random key per process, so tokens do not
    # survive a restart or work across uvicorn workers.
    secret_key: SecretStr = Field(
        default_factory=lambda: SecretStr(secrets.token_urlsafe(48))
    )
    access_token_expire_minutes: int = Field(default=30, ge=1, le=60 * 24)
    # A refresh token is replaced by a new one on every use; each new one
    # gets the full lifetime again.
    refresh_token_expire_days: int = Field(default=14, ge=1, le=365)
    password_reset_token_expire_minutes: int = Field(default=30, ge=5, le=60 * 24)
    # The frontend page where the shopper enters a new password. The reset e-mail
    # links to it with the token appended as `?token=...`.
    password_reset_url: str = "http://localhost:3000/reset-password"  # noqa: S105

    # Outgoing mail (password reset). The default suits a local test server
    # such as `python -m aiosmtpd -n -l 127.0.0.1:1025`.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_sender: str = "Pravis Boutique <no-reply@pravis.example>"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    # none: plain SMTP; starttls: upgrade after connecting (port 587);
    # tls: TLS from the first byte (port 465).
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)

    # The web frontend's origins for CORS, separated by commas.
    frontend_url: str = "http://localhost:3000"

    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    redis_timeout_seconds: float = Field(default=1.0, gt=0)
    # Connections per API process. When all are busy a command waits up to
    # REDIS_TIMEOUT_SECONDS for one; redis-py's default pool (100) raises
    # "Too many connections" at once instead.
    redis_max_connections: int = Field(default=50, ge=1)
    # After a failed Redis call, the response cache and the rate limiter
    # skip Redis for this long before they try it again.
    redis_retry_seconds: float = Field(default=2.0, gt=0, le=60)

    # Response cache for GET routes, in Redis.
    cache_enabled: bool = True
    cache_ttl_seconds: int = Field(default=300, ge=1, le=86_400)
    # Larger responses are served but not stored.
    cache_max_bytes: int = Field(default=100 * 1024, ge=1024)

    # Rate limits in the `limits` notation: "300/minute", "10/minute;100/hour".
    # Counted per signed-in user, else per client address, in Redis, so all
    # API processes share them.
    rate_limit_enabled: bool = True
    rate_limit_default: str = "300/minute"
    # Sign-in and password reset requests.
    rate_limit_login: str = "10/minute"
    # Sign-in attempts per account (e-mail address), from any client, so a
    # password guesser spread over many addresses is limited too.
    rate_limit_login_account: str = "5/minute;30/hour"
    rate_limit_register: str = "5/minute"
    # Voice requests: recordings and typed commands.
    rate_limit_voice: str = "30/minute"

    azure_storage_connection_string: SecretStr = SecretStr("UseDevelopmentStorage=true")
    # Azure's container naming rule: 3 to 63 lower-case letters, digits and
    # single hyphens, starting and ending with a letter or digit.
    azure_storage_container_name: str = Field(
        default="pravis",
        min_length=3,
        max_length=63,
        pattern=r"^[a-z0-9]([a-z0-9]|-[a-z0-9])+$",
    )
    blob_timeout_seconds: float = Field(default=5.0, gt=0)

    # Application Insights connection string. Either name may be used;
    # APPLICATIONINSIGHTS_CONNECTION_STRING is the one Azure's SDKs read.
    # Monitoring is on when one is set and ENVIRONMENT is not development.
    azure_app_insights_key: SecretStr | None = None
    applicationinsights_connection_string: SecretStr | None = None
    # Legacy: the HTTP Data Collector API these two belong to was retired on
    # 14 September 2026. They are accepted so old `.env` files still load.
    azure_log_analytics_workspace_id: str | None = None
    azure_log_analytics_shared_key: SecretStr | None = None

    # ISO 4217 code of the prices in the catalogue.
    store_currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    # Products listed with a spoken reply, and so spoken of by position.
    assistant_max_products: int = Field(default=5, ge=1, le=20)

    voice_max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    voice_max_audio_seconds: float = Field(default=30.0, gt=0)
    voice_max_text_chars: int = Field(default=500, ge=1)
    # Speech worker processes per API process; unset means one per CPU this
    # process may run on. A container's CPU quota is not seen: set it there.
    speech_workers: int = Field(
        default_factory=lambda: len(os.sched_getaffinity(0)), ge=1
    )
    # Requests allowed to wait for a busy worker before the API sheds load
    # with 503; counted over the whole pool, not per worker.
    speech_queue_limit: int = Field(default=8, ge=0)
    speech_timeout_seconds: float = Field(default=30.0, gt=0)
    # Processes for /voice/transcribe, each with the general model (about
    # 100 MB); the assistant's workers use the small boutique model.
    speech_dictation_workers: int = Field(default=1, ge=1)
    # Where boutique language models are written; processes share builds.
    speech_model_dir: Path = Field(
        default_factory=lambda: Path(tempfile.gettempdir()) / "pravis-api-speech-models"
    )
    # Seconds between checks of the catalogue for changes to the model.
    speech_model_refresh_seconds: float = Field(default=60.0, gt=0)
    # Recognised words below this posterior probability (0 to 1) are left
    # out of what the assistant reads. Off by default: on synthesised
    # commands even 0.1 dropped right words (bench/RESULTS.md).
    speech_min_word_confidence: float = Field(default=0.0, ge=0, le=1)
    # When more than this share of the words heard are outside the boutique
    # vocabulary, the speech is taken to be about something else and gets
    # the fallback reply with no action. 1 turns the check off.
    speech_max_unknown_word_share: float = Field(default=0.25, ge=0, le=1)
    # Speech synthesis: the default voice id (see GET /voice/voices), unset
    # for the text-to-speech provider's own default; and eSpeak NG's pace.
    tts_default_voice: str | None = None
    tts_words_per_minute: int = Field(default=165, ge=80, le=400)
    # Synthesised speech is kept in Blob Storage, and in Redis for this long
    # when no larger than speech_cache_redis_max_bytes.
    speech_cache_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    speech_cache_redis_max_bytes: int = Field(default=256 * 1024, ge=0)
    # The most recently used speech is also kept in each API process, up to
    # this many bytes. A hit there needs no Redis round trip.
    speech_cache_memory_bytes: int = Field(default=8 * 1024 * 1024, ge=0)
    # Whether a recording is stored when the shopper made no choice: neither
    # the request's `store_recording` field nor the account's preference.
    voice_store_recordings_default: bool = False
    # Recordings, and interactions of anonymous shoppers, older than this are
    # removed by `pravis-api purge`.
    voice_retention_days: int = Field(default=90, ge=1, le=3650)
    # Lifetime of the read-only Blob Storage links to a recording.
    recording_link_expire_minutes: int = Field(default=5, ge=1, le=60)

    # Analytics: events per POST /analytics/events, distinct normalised
    # queries kept per day in the top and unanswered query rollups, and the
    # salt of the client address hash kept with a consent decision (unset:
    # derived from SECRET_KEY).
    analytics_max_batch_events: int = Field(default=50, ge=1, le=1000)
    analytics_query_cap_per_day: int = Field(default=1000, ge=10, le=100_000)
    analytics_address_salt: SecretStr | None = None
    # Exports and backups: the lifetime of a download link, the size of each
    # block uploaded to Blob Storage, and the blob name prefixes.
    export_link_expire_minutes: int = Field(default=15, ge=1, le=24 * 60)
    export_block_bytes: int = Field(default=4 * 1024 * 1024, ge=64 * 1024)
    export_prefix: str = Field(default="exports", pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    backup_prefix: str = Field(default="backups", pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")

    @field_validator("database_url", mode="before")
    @classmethod
    def _check_database_url(cls, value: Any) -> Any:
        if value in ("", None):
            return None
        raw = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        if urlsplit(raw).scheme.split("+")[0] not in ("postgresql", "postgres"):
            raise ValueError(
                "DATABASE_URL must start with postgresql://, for example "
                "postgresql://user:password@localhost:5432/pravis"
            )
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _check_forwarded_allow_ips(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        if "*" in entries:
            if len(entries) > 1:
                raise ValueError(
                    "FORWARDED_ALLOW_IPS combines `*` with addresses, but uvicorn "
                    "honours `*` only on its own. Give `*` alone to trust every "
                    "peer, or list only addresses and networks"
                )
            return "*"
        normalized = []
        for entry in entries:
            try:
                # uvicorn 0.55 keeps an entry that is not an IP address or
                # network as a literal that never matches a peer's address, so
                # a typo would quietly turn the proxy headers off. It also
                # parses networks strictly, so 10.0.0.7/16 becomes 10.0.0.0/16.
                if "/" in entry:
                    normalized.append(str(ipaddress.ip_network(entry, strict=False)))
                else:
                    normalized.append(str(ipaddress.ip_address(entry)))
            except ValueError:
                raise ValueError(
                    f"FORWARDED_ALLOW_IPS entry {entry!r} is not an IP address or "
                    "CIDR network. Separate entries with commas, for example "
                    "10.0.0.0/16,127.0.0.1"
                ) from None
        return ",".join(normalized)

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: SecretStr) -> SecretStr:
        if urlsplit(value.get_secret_value()).scheme not in ("redis", "rediss", "unix"):
            raise ValueError(
                "REDIS_URL must start with redis://, rediss:// or unix://, "
                "for example redis://localhost:6379/0"
            )
        return value

    @field_validator("password_reset_url")
    @classmethod
    def _check_password_reset_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError(
                "PASSWORD_RESET_URL must be an http:// or https:// URL without a "
                "query, for example https://shop.example.com/reset-password"
            )
        return value

    @field_validator("smtp_sender")
    @classmethod
    def _check_smtp_sender(cls, value: str) -> str:
        _, address = parseaddr(value)
        if "@" not in address:
            raise ValueError(
                "SMTP_SENDER must be an e-mail address, optionally with a name, "
                "for example Pravis Boutique <no-reply@shop.example.com>"
            )
        return value

    @field_validator(
        "rate_limit_default",
        "rate_limit_login",
        "rate_limit_login_account",
        "rate_limit_register",
        "rate_limit_voice",
    )
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(
                f"{value!r} is not a rate limit; write it as a count per period, "
                "for example 300/minute, or several separated by ;, for example "
                "10/minute;100/hour"
            ) from exc
        return value

    @field_validator("frontend_url")
    @classmethod
    def _check_frontend_url(cls, value: str) -> str:
        for origin in _split_list(value):
            parts = urlsplit(origin)
            if (
                parts.scheme not in ("http", "https")
                or not parts.netloc
                or parts.path not in ("", "/")
                or parts.query
                or parts.fragment
            ):
                raise ValueError(
                    f"FRONTEND_URL contains {origin!r}, which is not an origin; "
                    "write scheme, host and port only, for example "
                    "https://shop.example.com,http://localhost:3000"
                )
        return value

    @property
    def access_token_lifetime(self) -> timedelta:
        return timedelta(minutes=self.access_token_expire_minutes)

    @property
    def sqlalchemy_database_url(self) -> str:
        """The PostgreSQL URL with the asyncpg driver, password included."""
        if self.database_url is not None:
            raw = self.database_url.get_secret_value()
            if raw.startswith("postgres://"):
                raw = "postgresql://" + raw.removeprefix("postgres://")
            url = make_url(raw).set(drivername="postgresql+asyncpg")
            # libpq spells TLS as sslmode=require; asyncpg takes ssl=require.
            if "sslmode" in url.query:
                query = dict(url.query)
                query["ssl"] = query.pop("sslmode")
                url = url.set(query=query)
        else:
            url = URL.create(
                "postgresql+asyncpg",
                username=self.db_user,
                password=self.db_password.get_secret_value() or None,
                host=self.db_host,
                port=self.db_port,
                database=self.db_name,
            )
        return url.render_as_string(hide_password=False)

    @property
    def database_url_for_logs(self) -> str:
        return make_url(self.sqlalchemy_database_url).render_as_string(
            hide_password=True
        )

    @property
    def blob_connection_string(self) -> str:
        value = self.azure_storage_connection_string.get_secret_value().strip()
        if value.rstrip(";").lower() == "usedevelopmentstorage=true":
            return AZURITE_CONNECTION_STRING
        return value

    @property
    def cors_origins(self) -> list[str]:
        return [origin.rstrip("/") for origin in _split_list(self.frontend_url)]

    @property
    def trusted_proxy_networks(
        self,
    ) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """FORWARDED_ALLOW_IPS as networks, for the rate limiter.

        uvicorn already rewrites the client address from these peers under
        `pravis-api serve`. The limiter reads the same list, so that it also
        works under another ASGI server.
        """
        if self.forwarded_allow_ips == "*":
            return [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]
        return [
            ipaddress.ip_network(entry, strict=False)
            for entry in _split_list(self.forwarded_allow_ips)
        ]

    @property
    def trusts_proxy_headers(self) -> bool:
        return self.forwarded_allow_ips != ""

    @property
    def monitoring_connection_string(self) -> str | None:
        """The Application Insights connection string, if monitoring is on."""
        if self.is_development:
            return None
        for value in (
            self.applicationinsights_connection_string,
            self.azure_app_insights_key,
        ):
            if value is not None and value.get_secret_value().strip():
                return value.get_secret_value().strip()
        return None

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def secret_key_is_generated(self) -> bool:
        return "secret_key" not in self.model_fields_set

    @model_validator(mode="after")
    def _check_secret_key(self) -> "Settings":
        if self.is_development:
            return self
        if self.secret_key_is_generated:
            raise ValueError(
                f"SECRET_KEY is not set, which is required when "
                f"ENVIRONMENT={self.environment}; {SECRET_KEY_HINT}"
            )
        key = self.secret_key.get_secret_value()
        if key.lower() in _PLACEHOLDER_SECRET_KEYS:
            raise ValueError(
                f"SECRET_KEY is a placeholder, which is not allowed when "
                f"ENVIRONMENT={self.environment}; {SECRET_KEY_HINT}"
            )
        if len(key) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"SECRET_KEY has {len(key)} characters, fewer than the "
                f"{MIN_SECRET_KEY_LENGTH} required when "
                f"ENVIRONMENT={self.environment}; {SECRET_KEY_HINT}"
            )
        return self

    def summary_for_logs(self) -> dict[str, Any]:
        """Return the settings worth logging at start-up, without secrets."""
        return {
            "app_name": self.app_name,
            "environment": self.environment,
            "database": self.database_url_for_logs,
            "redis": hide_url_password(self.redis_url.get_secret_value()),
            "blob_container": self.azure_storage_container_name,
            "cors_origins": self.cors_origins,
            "web_concurrency": self.web_concurrency,
            "forwarded_allow_ips": self.forwarded_allow_ips,
            "graceful_shutdown_timeout_seconds": (
                self.graceful_shutdown_timeout_seconds
            ),
            "speech_workers": self.speech_workers,
            "speech_queue_limit": self.speech_queue_limit,
            "speech_dictation_workers": self.speech_dictation_workers,
            "voice_max_upload_bytes": self.voice_max_upload_bytes,
            "voice_max_audio_seconds": self.voice_max_audio_seconds,
            "app_insights": self.monitoring_connection_string is not None,
            "cache": self.cache_enabled,
            "cache_ttl_seconds": self.cache_ttl_seconds,
            "rate_limits": {
                "default": self.rate_limit_default,
                "login": self.rate_limit_login,
                "login_account": self.rate_limit_login_account,
                "register": self.rate_limit_register,
                "voice": self.rate_limit_voice,
            }
            if self.rate_limit_enabled
            else None,
            "smtp": f"{self.smtp_host}:{self.smtp_port} ({self.smtp_security})",
            "voice_store_recordings_default": self.voice_store_recordings_default,
            "voice_retention_days": self.voice_retention_days,
            **self.providers_for_logs(),
        }


def _split_list(value: str) -> list[str]:
    return [entry.strip() for entry in value.split(",") if entry.strip()]


def hide_url_password(url: str) -> str:
    """Return the URL with any password replaced by `***`, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


@lru_cache
def get_settings() -> Settings:
    return Settings()
