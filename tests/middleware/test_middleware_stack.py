"""The middleware stack as a whole."""

from starlette.middleware.base import BaseHTTPMiddleware

from pravis_api.core.config import Settings
from pravis_api.main import create_app


def test_middleware_stack_is_pure_asgi(settings: Settings) -> None:
    # BaseHTTPMiddleware runs each request in an extra task with anyio memory
    # streams, which costs far more per request than a plain ASGI layer.
    app = create_app(
        settings.model_copy(update={"cache_enabled": True, "rate_limit_enabled": True})
    )
    classes = [middleware.cls for middleware in app.user_middleware]
    assert len(classes) == 5
    for middleware_class in classes:
        assert isinstance(middleware_class, type)
        assert not issubclass(middleware_class, BaseHTTPMiddleware), middleware_class
