"""Store policies: returns, exchanges, shipping and the size guide."""

from fastapi import APIRouter

from pravis_api.api.deps import ReadSessionDep
from pravis_api.models.policy import StorePolicyPublic
from pravis_api.repositories.products import list_policies
from pravis_api.services.response_cache import POLICIES, cached

router = APIRouter(prefix="/store", tags=["store"])


@router.get("/policies", response_model=list[StorePolicyPublic])
@cached(namespaces=[POLICIES])
async def read_policies(session: ReadSessionDep) -> list[StorePolicyPublic]:
    return [
        StorePolicyPublic.model_validate(policy)
        for policy in await list_policies(session)
    ]
