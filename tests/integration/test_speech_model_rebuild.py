"""Catalogue writes rebuild the recogniser's boutique model.

These tests commit their writes, because the model is built from what
other database sessions see, and remove what they added at the end.
"""

import asyncio
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from pravis_api.core.config import Settings
from pravis_api.services.speech.language_model import (
    WORDS_SUFFIX,
    ModelFiles,
    read_words,
)
from pravis_api.services.speech.models import SpeechModels
from tests.conftest import (
    DATA,
    bearer,
    client_for,
    login,
    promote_to_admin,
    register,
    running_app,
)
from tests.servers import LocalServer, azurite_connection_string

PRODUCTS = "/api/v1/products"
RED_DRESSES = (DATA / "red-dresses.wav").read_bytes()
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


def model_paths(model: ModelFiles) -> list[Path]:
    return [Path(model.lm_path), Path(model.dict_path), Path(model.words_path)]


def set_mtime(model: ModelFiles, mtime: float) -> None:
    for path in model_paths(model):
        os.utime(path, (mtime, mtime))


def last_used(model: ModelFiles) -> float:
    return Path(model.lm_path).stat().st_mtime


def copy_version(model: ModelFiles, version: str, mtime: float) -> ModelFiles:
    """Copy a model's files under another version, as another build would be."""
    stem = Path(model.lm_path).with_name(f"boutique-{version}")
    copy = ModelFiles(version, f"{stem}.lm", f"{stem}.dict", f"{stem}{WORDS_SUFFIX}")
    for source, target in zip(model_paths(model), model_paths(copy), strict=True):
        shutil.copyfile(source, target)
    set_mtime(copy, mtime)
    return copy


async def test_refresh_marks_model_in_use(
    app: FastAPI, catalogue: None, tmp_path: Path
) -> None:
    resources = app.state.resources
    models = SpeechModels(
        resources.session_factory, resources.speech_pool, tmp_path, 60.0
    )
    model = await models.refresh()
    assert model is not None
    long_ago = time.time() - 3600
    set_mtime(model, long_ago)

    # The catalogue is unchanged, so this refresh builds nothing.
    assert await models.refresh() == model

    assert last_used(model) > long_ago + 3000


async def test_rebuild_keeps_model_used_elsewhere(
    app: FastAPI,
    catalogue: None,
    committed_client: httpx.AsyncClient,
    admin: dict[str, str],
    tmp_path: Path,
) -> None:
    """A process that has not yet seen a catalogue change keeps its model."""
    resources = app.state.resources
    slow = SpeechModels(
        resources.session_factory, resources.speech_pool, tmp_path, 60.0
    )
    in_use = await slow.refresh()
    assert in_use is not None
    # Built two minutes ago; other processes built two versions since.
    now = time.time()
    set_mtime(in_use, now - 120)
    others = [copy_version(in_use, f"{n:016x}", now - 60) for n in range(2)]

    created = await committed_client.post(PRODUCTS, json=kaftan(), headers=admin)
    assert created.status_code == 201, created.text
    try:
        fast = SpeechModels(
            resources.session_factory, resources.speech_pool, tmp_path, 60.0
        )
        newer = await fast.refresh()
    finally:
        deleted = await committed_client.delete(
            f"{PRODUCTS}/{created.json()['id']}", headers=admin
        )
    assert deleted.status_code == 204
    assert newer is not None
    assert newer.version != in_use.version

    for model in (in_use, *others, newer):
        for path in model_paths(model):
            assert path.exists(), path


async def test_missing_model_files_rebuilt(
    catalogue: None, settings: Settings, azurite: LocalServer, tmp_path: Path
) -> None:
    """Files removed under a running API (by a temporary-file cleaner, or by
    another process) are built again, and the next recording is heard."""
    async with running_app(
        database_url=settings.sqlalchemy_database_url,
        azure_storage_connection_string=azurite_connection_string(azurite.port),
        speech_workers=1,
        speech_model_dir=tmp_path,
    ) as (app, client):
        model = app.state.resources.speech_models.current
        assert model is not None
        for path in model_paths(model):
            path.unlink()

        response = await client.post(
            "/api/v1/voice/query",
            files={"audio": ("clip.wav", RED_DRESSES, "audio/wav")},
        )

    assert response.status_code == 200, response.text
    assert response.json()["intent"] == "search"
    for path in model_paths(model):
        assert path.exists(), path
