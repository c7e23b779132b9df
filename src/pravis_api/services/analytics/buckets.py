"""The fixed latency buckets of the voice rollups.

Bucket 0 holds durations below 0.5 ms; bucket k (1 to 71) holds
[0.5 * 2^((k-1)/4), 0.5 * 2^(k/4)) ms, four buckets per doubling, each
about 19% wider than the one before; bucket 72 holds everything from about
110 s up. The SQL function `pravis_latency_bucket` (migration 0201) places
a duration; this module gives the bounds and reads percentiles back.
"""

import math
from collections.abc import Sequence

BASE_MS = 0.5
PER_DOUBLING = 4
LAST_BUCKET = 72
GROWTH = 2 ** (1 / PER_DOUBLING)


def bucket_of(ms: float) -> int:
    """Python twin of pravis_latency_bucket, for tests and tools."""
    if ms < BASE_MS:
        return 0
    return min(
        LAST_BUCKET,
        math.floor(PER_DOUBLING * math.log(ms / BASE_MS) / math.log(2.0)) + 1,
    )


def bounds(bucket: int) -> tuple[float, float | None]:
    """The bucket's lower and upper bound in ms; None above the last one."""
    if bucket <= 0:
        return 0.0, BASE_MS
    lower = BASE_MS * 2 ** ((bucket - 1) / PER_DOUBLING)
    if bucket >= LAST_BUCKET:
        return lower, None
    return lower, BASE_MS * 2 ** (bucket / PER_DOUBLING)


def percentile_bucket(counts: Sequence[tuple[int, int]], fraction: float) -> int | None:
    """The bucket holding the `fraction` quantile (nearest rank) of the counts.

    `counts` are (bucket, count) pairs in any order.
    """
    total = sum(count for _, count in counts)
    if total == 0:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for bucket, count in sorted(counts):
        seen += count
        if seen >= rank:
            return bucket
    return max(bucket for bucket, _ in counts)
