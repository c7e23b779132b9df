from fastapi import APIRouter

from pravis_api.api.v1.endpoints import auth, products, store, voice

API_PREFIX = "/api/v1"

# Routes that take a recording; they get the upload size limit.
UPLOAD_PATHS = (f"{API_PREFIX}/voice/query",)


def build_api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    router.include_router(auth.router)
    router.include_router(products.router)
    router.include_router(store.router)
    router.include_router(voice.router)
    return router
