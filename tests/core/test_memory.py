import gc
import platform

import pytest

from pravis_api.core.config import Settings
from pravis_api.core.memory import (
    GC_YOUNG_THRESHOLD,
    pin_mmap_threshold,
    settled_garbage_collector,
)
from pravis_api.main import create_app


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="needs glibc")
def test_pin_mmap_threshold_on_glibc() -> None:
    assert pin_mmap_threshold() is True


def test_settled_collector_freezes_and_restores() -> None:
    before = gc.get_threshold()
    long_lived: list[int] = []
    with settled_garbage_collector(1234):
        assert gc.get_threshold() == (1234, *before[1:])
        # Frozen objects are in no generation the collector walks.
        assert not any(tracked is long_lived for tracked in gc.get_objects())
    assert gc.get_threshold() == before
    assert any(tracked is long_lived for tracked in gc.get_objects())


async def test_app_runs_with_the_settled_collector(settings: Settings) -> None:
    app = create_app(settings)
    before = gc.get_threshold()
    async with app.router.lifespan_context(app):
        assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
