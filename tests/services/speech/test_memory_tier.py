from pravis_api.services.speech.cache import MemoryTier


def test_memory_tier_evicts_least_recent() -> None:
    tier = MemoryTier(max_bytes=10)
    tier.put("a", b"aaaa")
    tier.put("b", b"bbbb")
    assert tier.get("a") == b"aaaa"  # "a" is now the most recent

    tier.put("c", b"cccc")

    assert tier.get("b") is None
    assert tier.get("a") == b"aaaa"
    assert tier.get("c") == b"cccc"
    assert tier.size == 8


def test_memory_tier_replaces_entry() -> None:
    tier = MemoryTier(max_bytes=10)
    tier.put("a", b"aaaa")
    tier.put("a", b"aaaaaa")

    assert tier.get("a") == b"aaaaaa"
    assert tier.size == 6


def test_memory_tier_skips_oversized_entry() -> None:
    tier = MemoryTier(max_bytes=4)
    tier.put("a", b"aaa")
    tier.put("big", b"bbbbb")

    assert tier.get("big") is None
    assert tier.get("a") == b"aaa"


def test_memory_tier_off_at_zero() -> None:
    tier = MemoryTier(max_bytes=0)
    tier.put("a", b"a")

    assert tier.get("a") is None
    assert tier.size == 0
