"""Amounts in the store currency: minor units in storage, major units for people."""

from decimal import Decimal

# ISO 4217 minor-unit exponents that differ from 2.
_EXPONENTS = {"JPY": 0, "KRW": 0, "VND": 0, "BHD": 3, "KWD": 3, "OMR": 3}
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "INR": "₹", "JPY": "¥"}


def minor_unit_exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def to_minor(amount: Decimal, currency: str) -> int:
    """Convert major units (49.99) to minor units (4999), rounding half up."""
    scaled = amount.scaleb(minor_unit_exponent(currency))
    return int(scaled.quantize(Decimal(1), rounding="ROUND_HALF_UP"))


def to_major(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-minor_unit_exponent(currency))


def format_price(amount_minor: int, currency: str) -> str:
    """Format for a reply: $49.99, or 49.99 CHF for a currency without a symbol."""
    exponent = minor_unit_exponent(currency)
    major = to_major(amount_minor, currency)
    text = f"{major:,.{exponent}f}"
    symbol = _SYMBOLS.get(currency.upper())
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"
