"""Outgoing e-mail over SMTP with aiosmtplib, an asyncio client, so that
waiting for the mail server does not block the event loop."""

import logging
from email.message import EmailMessage

import aiosmtplib

from pravis_api.core.config import Settings

logger = logging.getLogger(__name__)


class MailDeliveryError(Exception):
    """The SMTP server could not be reached, timed out or rejected the message."""


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, message: EmailMessage) -> None:
        """Send one message from SMTP_SENDER; raise MailDeliveryError on failure."""
        settings = self.settings
        if "From" not in message:
            message["From"] = settings.smtp_sender
        password = settings.smtp_password
        try:
            await aiosmtplib.send(
                message,
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=password.get_secret_value() if password else None,
                use_tls=settings.smtp_security == "tls",
                # False, not None: None would upgrade whenever the server
                # offers STARTTLS, which SMTP_SECURITY=none rules out.
                start_tls=settings.smtp_security == "starttls",
                timeout=settings.smtp_timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            # SMTPTimeoutError and SMTPConnectError are OSErrors as well.
            raise MailDeliveryError(repr(exc)) from exc
