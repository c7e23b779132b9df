"""Analytics: consent, events, the daily rollups and the insights read from them."""
