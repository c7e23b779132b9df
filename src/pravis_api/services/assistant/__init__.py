"""Ask Pravi: understands a shopper's request and replies from the catalogue."""

from pravis_api.services.assistant.responder import Assistant, AssistantReply

__all__ = ["Assistant", "AssistantReply"]
