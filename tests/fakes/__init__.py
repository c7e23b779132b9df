"""Local fakes of cloud providers that check requests against their documented
HTTP protocols."""
