"""Allocator tuning that keeps a process's memory bounded under large uploads."""

import ctypes
import ctypes.util
import logging

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
