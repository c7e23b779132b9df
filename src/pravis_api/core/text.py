"""Checks and normal forms for text that shoppers send."""

import unicodedata

# Bidirectional embeddings, overrides and isolates: they can make stored
# text display differently from what it contains.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def normalise_email(email: str) -> str:
    """Return the e-mail in the form accounts are stored and looked up by."""
    return unicodedata.normalize("NFC", email).strip().lower()


def has_control_characters(text: str, *, allowed: str = "") -> bool:
    """Tell whether the text has C0 or C1 controls (other than `allowed`)
    or bidirectional formatting characters."""
    return any(
        (unicodedata.category(char) == "Cc" and char not in allowed)
        or char in _BIDI_CONTROLS
        for char in text
    )


def has_words(text: str) -> bool:
    """Tell whether the text has at least one letter or digit."""
    return any(char.isalnum() for char in text)
