from fastapi import APIRouter

from pravis_api.api.v1.endpoints import (
    admin_users,
    analytics,
    auth,
    exports,
    feedback,
    history,
    password_reset,
    products,
    recordings,
    speech,
    store,
    users,
    voice,
)

API_PREFIX = "/api/v1"

# Routes that take a recording; they get the upload size limit.
UPLOAD_PATHS = (f"{API_PREFIX}/voice/query", f"{API_PREFIX}/voice/transcribe")

# Paths with their own rate limit group; every other path counts against
# the default group. Each group's limit is a setting (RATE_LIMIT_<GROUP>).
RATE_LIMIT_GROUPS = {
    f"{API_PREFIX}/auth/login": "login",
    f"{API_PREFIX}/auth/password-reset": "login",
    f"{API_PREFIX}/auth/password-reset/confirm": "login",
    f"{API_PREFIX}/auth/register": "register",
    f"{API_PREFIX}/voice/query": "voice",
    f"{API_PREFIX}/voice/command": "voice",
}


def build_api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    # FastAPI tries routes in order, so the voice routes, which take most
    # of the traffic, come first; no other router's paths overlap them.
    router.include_router(voice.router)
    router.include_router(speech.router)
    router.include_router(auth.router)
    router.include_router(password_reset.router)
    # /users/me before /users/{user_id}, which would otherwise match "me".
    router.include_router(users.router)
    router.include_router(admin_users.router)
    router.include_router(products.router)
    router.include_router(store.router)
    router.include_router(history.router)
    router.include_router(recordings.router)
    router.include_router(feedback.router)
    router.include_router(analytics.router)
    router.include_router(exports.router)
    return router
