"""SQLModel tables. Importing this package registers them on the metadata."""

from pravis_api.models.analytics import (
    AnalyticsEvent,
    ConsentDecision,
    UsageActorRollup,
    UsagePageRollup,
    UsageProductRollup,
    VoiceDailyRollup,
    VoiceLatencyRollup,
    VoiceQueryMonthlyRollup,
    VoiceQueryRollup,
)
from pravis_api.models.auth_token import PasswordResetToken, RefreshToken
from pravis_api.models.blob_deletion import BlobDeletion
from pravis_api.models.export_job import ExportJob
from pravis_api.models.feedback import InteractionFeedback
from pravis_api.models.policy import StorePolicy
from pravis_api.models.product import Product
from pravis_api.models.user import User
from pravis_api.models.voice_interaction import VoiceInteraction

__all__ = [
    "AnalyticsEvent",
    "ConsentDecision",
    "ExportJob",
    "UsageActorRollup",
    "UsagePageRollup",
    "UsageProductRollup",
    "VoiceDailyRollup",
    "VoiceLatencyRollup",
    "VoiceQueryMonthlyRollup",
    "VoiceQueryRollup",
    "BlobDeletion",
    "InteractionFeedback",
    "PasswordResetToken",
    "Product",
    "RefreshToken",
    "StorePolicy",
    "User",
    "VoiceInteraction",
]
