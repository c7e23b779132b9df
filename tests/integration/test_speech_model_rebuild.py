"""Catalogue writes rebuild the recogniser's boutique model.

These tests commit their writes, because the model is built from what
other database sessions see, and remove what they added at the end.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from pravis_api.services.speech.language_model import ModelFiles, read_words
from pravis_api.services.speech.models import SpeechModels
from tests.conftest import bearer, client_for, login, promote_to_admin, register

PRODUCTS = "/api/v1/products"
# Far above a build on an idle machine (about 2 s), for a busy one.
REBUILD_TIMEOUT_SECONDS = 60.0


@pytest.fixture
async def committed_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests commit, unlike the rolled-back `client`."""
    async with client_for(app) as client:
        yield client


@pytest.fixture
async def admin(
    app: FastAPI, committed_client: httpx.AsyncClient
) -> AsyncIterator[dict[str, str]]:
    email = await register(
        committed_client, f"model-admin-{uuid.uuid4().hex[:8]}@example.com"
    )
    await promote_to_admin(app, email)
    headers = bearer(await login(committed_client, email))
    yield headers
    await committed_client.delete("/api/v1/users/me", headers=headers)


async def next_model(models: SpeechModels, previous: ModelFiles) -> ModelFiles:
    """Wait for the app to replace `previous` with a newly built model."""
    # SpeechModels has no event to wait on, so the test polls its state.
    async with asyncio.timeout(REBUILD_TIMEOUT_SECONDS):
        while True:
            current = models.current
            if current is not None and current.version != previous.version:
                return current
            await asyncio.sleep(0.1)


def kaftan(**changes: Any) -> dict[str, Any]:
    product = {
        "name": "Zardozi Kaftan",
        "slug": f"zardozi-kaftan-{uuid.uuid4().hex[:8]}",
        "description": "A kaftan with zardozi embroidery.",
        "category": "dresses",
        "fabric": "silk",
        "price_minor": 18_000,
        "currency": "USD",
        "colors": ["ivory"],
        "sizes": [{"size": "M", "stock": 3}],
    }
    product.update(changes)
    return product


async def test_product_writes_rebuild_model(
    app: FastAPI,
    catalogue: None,
    committed_client: httpx.AsyncClient,
    admin: dict[str, str],
) -> None:
    models: SpeechModels = app.state.resources.speech_models
    before = await models.ensure()
    assert before is not None
    assert "zardozi" not in read_words(before)

    created = await committed_client.post(PRODUCTS, json=kaftan(), headers=admin)
    assert created.status_code == 201, created.text
    product_id = created.json()["id"]
    try:
        with_kaftan = await next_model(models, before)
        assert {"zardozi", "kaftan"} <= read_words(with_kaftan)

        renamed = await committed_client.patch(
            f"{PRODUCTS}/{product_id}", json={"name": "Kantha Kaftan"}, headers=admin
        )
        assert renamed.status_code == 200, renamed.text
        with_kantha = await next_model(models, with_kaftan)
        assert "kantha" in read_words(with_kantha)
        assert "zardozi" not in read_words(with_kantha)
    finally:
        deleted = await committed_client.delete(
            f"{PRODUCTS}/{product_id}", headers=admin
        )
    assert deleted.status_code == 204

    # Back to the demo catalogue: the same corpus, so the same model files.
    restored = await next_model(models, with_kantha)
    assert restored.version == before.version
