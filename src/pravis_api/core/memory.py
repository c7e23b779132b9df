"""Allocator and garbage collector tuning for steady memory and latency."""

import ctypes
import ctypes.util
import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)

# mallopt parameter number of M_MMAP_THRESHOLD in glibc's malloc.h.
_M_MMAP_THRESHOLD = -3
# Blocks from this size up are mapped on their own and unmapped when freed.
MMAP_THRESHOLD_BYTES = 128 * 1024


def pin_mmap_threshold(threshold_bytes: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Fix glibc's mmap threshold; return whether it was set.

    glibc raises the threshold each time it frees a mapped block, up to 32
    MiB on 64-bit systems, after which 10 MB upload buffers come from the
    heap and stay resident after they are freed. A fixed threshold turns
    that adjustment off, at glibc's own starting value of 128 KiB. With 50
    concurrent 10 MB uploads it cut the API process's peak from 420-490
    MiB to 278-282 MiB (bench/RESULTS.md). Other C libraries, such as musl,
    have no mallopt and are left alone.
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    libc = ctypes.CDLL(name)
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    if mallopt(_M_MMAP_THRESHOLD, threshold_bytes) != 1:
        logger.warning("memory.mmap_threshold_failed", extra={"bytes": threshold_bytes})
        return False
    return True


# Allocations of container objects between two young collections. Python's
# default is 700.
GC_YOUNG_THRESHOLD = 10_000


@contextmanager
def settled_garbage_collector(young_threshold: int) -> Iterator[None]:
    """Keep the objects made at start-up out of every later collection.

    A started worker has about 216,000 objects the collector tracks
    (modules, classes, the ORM's mappings), and they live as long as the
    process. Each full collection walked all of them and paused the event
    loop for about 120 ms, 34 times in 25 s under wrk, which set the p99
    of every route. Frozen objects are skipped. Collecting young objects
    less often also lets the objects of requests in flight die by
    reference counting before they reach the oldest generation, whose
    growth is what makes full collections come due. On exit the objects
    are unfrozen and the old thresholds restored, so a test process that
    starts many apps still collects what they leave behind.
    """
    old_thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(young_threshold, *old_thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old_thresholds)
        gc.unfreeze()
