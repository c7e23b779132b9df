"""Admin routes: list, read, update and delete users."""

import uuid
from typing import Any

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import bearer, login, make_admin, register, user_id_of

USERS = "/api/v1/users"


async def shopper(client: httpx.AsyncClient, email: str | None = None) -> str:
    return await register(client, email)


async def test_admin_routes_forbidden_for_shoppers(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    email = await register(client)
    tokens = await login(client, email)
    user_id = await user_id_of(db_session, email)
    requests = [
        ("GET", USERS, None),
        ("GET", f"{USERS}/{user_id}", None),
        ("PATCH", f"{USERS}/{user_id}", {"is_admin": True}),
        ("DELETE", f"{USERS}/{user_id}", None),
    ]
    for method, url, body in requests:
        response = await client.request(method, url, json=body, headers=bearer(tokens))
        assert response.status_code == 403, (method, url)
        assert response.headers["content-type"] == "application/problem+json"
        anonymous = await client.request(method, url, json=body)
        assert anonymous.status_code == 401, (method, url)
    me = await client.get("/api/v1/users/me", headers=bearer(tokens))
    assert me.json()["is_admin"] is False


async def test_admin_list_users_pages(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    admin = await make_admin(client, db_session)
    marker = uuid.uuid4().hex[:10]
    emails = [await shopper(client, f"u{i}-{marker}@example.com") for i in range(3)]

    response = await client.get(
        USERS, params={"email": marker.upper()}, headers=bearer(admin)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    assert body["page"] == 1
    assert body["page_size"] == 20
    assert sorted(item["email"] for item in body["items"]) == sorted(emails)
    assert "hashed_password" not in body["items"][0]

    pages = [
        (
            await client.get(
                USERS,
                params={"email": marker, "page": page, "page_size": 2, "x": "y"},
                headers=bearer(admin),
            )
        ).json()
        for page in (1, 2, 3)
    ]
    assert [len(page["items"]) for page in pages] == [2, 1, 0]
    assert [page["total"] for page in pages] == [3, 3, 3]
    seen = [item["email"] for page in pages for item in page["items"]]
    assert sorted(seen) == sorted(emails)


async def test_admin_list_filters_flags(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    admin = await make_admin(client, db_session)
    marker = uuid.uuid4().hex[:10]
    active = await shopper(client, f"active-{marker}@example.com")
    inactive = await shopper(client, f"inactive-{marker}@example.com")
    inactive_id = await user_id_of(db_session, inactive)
    await client.patch(
        f"{USERS}/{inactive_id}", json={"is_active": False}, headers=bearer(admin)
    )

    response = await client.get(
        USERS, params={"email": marker, "is_active": "false"}, headers=bearer(admin)
    )
    assert [item["email"] for item in response.json()["items"]] == [inactive]
    response = await client.get(
        USERS, params={"email": marker, "is_active": "true"}, headers=bearer(admin)
    )
    assert [item["email"] for item in response.json()["items"]] == [active]
    response = await client.get(
        USERS, params={"is_admin": "true", "page_size": 100}, headers=bearer(admin)
    )
    assert all(item["is_admin"] for item in response.json()["items"])


async def test_admin_list_search_is_literal(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    admin = await make_admin(client, db_session)
    marker = uuid.uuid4().hex[:10]
    underscore = await shopper(client, f"a_b-{marker}@example.com")
    await shopper(client, f"axb-{marker}@example.com")
    response = await client.get(
        USERS, params={"email": f"a_b-{marker}"}, headers=bearer(admin)
    )
    assert [item["email"] for item in response.json()["items"]] == [underscore]
    response = await client.get(
        USERS, params={"email": f"%{marker}"}, headers=bearer(admin)
    )
    assert response.json()["total"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": 101}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"page": 0}, "page"),
        ({"page": "first"}, "page"),
        ({"email": "x" * 321}, "email"),
        ({"is_active": "maybe"}, "is_active"),
    ],
)
async def test_admin_list_invalid_query(
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    params: dict[str, Any],
    field: str,
) -> None:
    admin = await make_admin(client, db_session)
    response = await client.get(USERS, params=params, headers=bearer(admin))
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_admin_read_user(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    admin = await make_admin(client, db_session)
    email = await shopper(client)
    user_id = await user_id_of(db_session, email)
    response = await client.get(f"{USERS}/{user_id}", headers=bearer(admin))
    assert response.status_code == 200
    assert response.json()["email"] == email

    missing = await client.get(f"{USERS}/{uuid.uuid4()}", headers=bearer(admin))
    assert missing.status_code == 404
    invalid = await client.get(f"{USERS}/not-a-uuid", headers=bearer(admin))
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["field"] == "user_id"


async def test_admin_deactivate_revokes_tokens(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    admin = await make_admin(client, db_session)
    email = await shopper(client)
    tokens = await login(client, email)
    user_id = await user_id_of(db_session, email)

    response = await client.patch(
        f"{USERS}/{user_id}", json={"is_active": False}, headers=bearer(admin)
    )
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    me = await client.get("/api/v1/users/me", headers=bearer(tokens))
    assert me.status_code == 401
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 401
    denied_login = await client.post(
        "/api/v1/auth/login", data={"username": email, "password": "correct horse 42"}
    )
    assert denied_login.status_code == 403

    # Reactivation does not bring the old tokens back.
    await client.patch(
        f"{USERS}/{user_id}", json={"is_active": True}, headers=bearer(admin)
    )
    me = await client.get("/api/v1/users/me", headers=bearer(tokens))
    assert me.status_code == 401
    assert (await login(client, email))["access_token"]


async def test_admin_grant_and_remove_admin(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    admin = await make_admin(client, db_session)
    email = await shopper(client)
    tokens = await login(client, email)
    user_id = await user_id_of(db_session, email)

    granted = await client.patch(
        f"{USERS}/{user_id}", json={"is_admin": True}, headers=bearer(admin)
    )
    assert granted.json()["is_admin"] is True
    assert (await client.get(USERS, headers=bearer(tokens))).status_code == 200

    removed = await client.patch(
        f"{USERS}/{user_id}", json={"is_admin": False}, headers=bearer(admin)
    )
    assert removed.json()["is_admin"] is False
    assert (await client.get(USERS, headers=bearer(tokens))).status_code == 403


async def test_admin_update_email_and_name(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    admin = await make_admin(client, db_session)
    email = await shopper(client)
    existing_email = await shopper(client)
    user_id = await user_id_of(db_session, email)
    new_email = f"renamed-{uuid.uuid4().hex[:8]}@example.com"

    response = await client.patch(
        f"{USERS}/{user_id}",
        json={"email": new_email, "full_name": "Asha Rao"},
        headers=bearer(admin),
    )
    assert response.status_code == 200
    assert response.json()["email"] == new_email
    assert response.json()["full_name"] == "Asha Rao"

    conflict = await client.patch(
        f"{USERS}/{user_id}", json={"email": existing_email}, headers=bearer(admin)
    )
    assert conflict.status_code == 409


async def test_admin_cannot_demote_self(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    admin = await make_admin(client, db_session)
    me = (await client.get("/api/v1/users/me", headers=bearer(admin))).json()
    for change in ({"is_admin": False}, {"is_active": False}):
        response = await client.patch(
            f"{USERS}/{me['id']}", json=change, headers=bearer(admin)
        )
        assert response.status_code == 403, change
    response = await client.delete(f"{USERS}/{me['id']}", headers=bearer(admin))
    assert response.status_code == 403
    assert (await client.get(USERS, headers=bearer(admin))).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"is_active": None}, "is_active"),
        ({"is_admin": "yes please"}, "is_admin"),
        ({"email": None}, "email"),
        ({"hashed_password": "x"}, "hashed_password"),
        ({"token_version": 0}, "token_version"),
    ],
)
async def test_admin_update_invalid_fields(
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    body: dict[str, Any],
    field: str,
) -> None:
    admin = await make_admin(client, db_session)
    user_id = await user_id_of(db_session, await shopper(client))
    response = await client.patch(
        f"{USERS}/{user_id}", json=body, headers=bearer(admin)
    )
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_admin_update_unknown_user(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    admin = await make_admin(client, db_session)
    response = await client.patch(
        f"{USERS}/{uuid.uuid4()}", json={"is_active": False}, headers=bearer(admin)
    )
    assert response.status_code == 404


async def test_admin_delete_user(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    admin = await make_admin(client, db_session)
    email = await shopper(client)
    tokens = await login(client, email)
    user_id = await user_id_of(db_session, email)

    response = await client.delete(f"{USERS}/{user_id}", headers=bearer(admin))
    assert response.status_code == 204
    assert (
        await client.get(f"{USERS}/{user_id}", headers=bearer(admin))
    ).status_code == 404
    me = await client.get("/api/v1/users/me", headers=bearer(tokens))
    assert me.status_code == 401
    again = await client.delete(f"{USERS}/{user_id}", headers=bearer(admin))
    assert again.status_code == 404
