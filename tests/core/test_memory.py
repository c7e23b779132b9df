import platform

import pytest

from pravis_api.core.memory import pin_mmap_threshold


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="needs glibc")
def test_pin_mmap_threshold_on_glibc() -> None:
    assert pin_mmap_threshold() is True
