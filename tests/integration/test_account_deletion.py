"""Account deletion while Blob Storage is down: the account and its rows
go at once, and the recordings' names are logged and queued for purge."""

import logging

import pytest
from sqlalchemy import text

from tests.conftest import DATA, bearer, login, register, running_app
from tests.servers import azurite_connection_string, azurite_server


async def test_delete_account_storage_down(
    database: str, caplog: pytest.LogCaptureFixture
) -> None:
    blob_server = azurite_server().start()
    try:
        async with running_app(
            database_url=database,
            azure_storage_connection_string=azurite_connection_string(blob_server.port),
            blob_timeout_seconds=1,
        ) as (app, client):
            tokens = await login(client, await register(client))
            response = await client.post(
                "/api/v1/voice/query",
                files={"audio": ("clip.wav", (DATA / "goforward.wav").read_bytes())},
                data={"store_recording": "true"},
                headers=bearer(tokens),
            )
            assert response.status_code == 200, response.text
            interaction_id = response.json()["interaction_id"]
            blob_server.stop()

            with caplog.at_level(logging.ERROR, logger="pravis_api"):
                response = await client.delete(
                    "/api/v1/users/me", headers=bearer(tokens)
                )

            assert response.status_code == 204
            async with app.state.resources.session_factory() as session:
                rows = await session.exec(
                    text("SELECT count(*) FROM voice_interactions WHERE id = :id"),
                    params={"id": interaction_id},
                )
                assert rows.one()[0] == 0
                queued = await session.exec(
                    text("SELECT name FROM blob_deletions WHERE name LIKE :pattern"),
                    params={"pattern": f"%{interaction_id}%"},
                )
                queued_names = [name for (name,) in queued.all()]
    finally:
        blob_server.stop()

    assert len(queued_names) == 1
    failures = [
        record
        for record in caplog.records
        if record.getMessage() == "storage.blob_delete_failed"
    ]
    assert len(failures) == 1
    assert getattr(failures[0], "blobs", None) == queued_names
