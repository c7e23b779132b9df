"""SQLModel tables. Importing this package registers them on the metadata."""

from pravis_api.models.policy import StorePolicy
from pravis_api.models.product import Product
from pravis_api.models.user import User
from pravis_api.models.voice_interaction import VoiceInteraction

__all__ = ["Product", "StorePolicy", "User", "VoiceInteraction"]
