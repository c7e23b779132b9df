"""The catalogue API: search, filters, pagination, reads and admin writes."""

import uuid
from typing import Any

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.models.product import CATEGORIES
from tests.conftest import admin_headers, register_and_login

PRODUCTS = "/api/v1/products"

pytestmark = pytest.mark.usefixtures("catalogue")


async def list_products(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get(PRODUCTS, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_products_default_listing(client: httpx.AsyncClient) -> None:
    page = await list_products(client)
    assert page["total"] >= 300
    assert page["page"] == 1
    assert page["page_size"] == 20
    assert len(page["items"]) == 20
    first = page["items"][0]
    for key in (
        "id",
        "slug",
        "name",
        "category",
        "colors",
        "sizes",
        "price_minor",
        "currency",
        "fabric",
        "rating",
        "review_count",
        "image_urls",
        "in_stock",
    ):
        assert key in first, key


async def test_products_every_category_seeded(client: httpx.AsyncClient) -> None:
    for category in CATEGORIES:
        page = await list_products(client, category=category, page_size=1)
        assert page["total"] > 0, category


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"category": "dresses"}, lambda p: p["category"] == "dresses"),
        ({"color": "red"}, lambda p: "red" in p["colors"]),
        ({"color": "RED"}, lambda p: "red" in p["colors"]),
        ({"fabric": "silk"}, lambda p: p["fabric"] == "silk"),
        ({"size": "M"}, lambda p: "M" in p["available_sizes"]),
        ({"min_price": 100}, lambda p: p["price_minor"] >= 10000),
        ({"max_price": "49.99"}, lambda p: p["price_minor"] <= 4999),
        ({"in_stock": "true"}, lambda p: p["total_stock"] > 0),
        ({"featured": "true"}, lambda p: p["featured"]),
        (
            {"category": "dresses", "color": "red", "max_price": 100},
            lambda p: (
                p["category"] == "dresses"
                and "red" in p["colors"]
                and p["price_minor"] <= 10000
            ),
        ),
    ],
)
async def test_products_filters(
    client: httpx.AsyncClient, params: dict[str, Any], check: Any
) -> None:
    page = await list_products(client, page_size=100, **params)
    assert page["total"] > 0
    for product in page["items"]:
        assert check(product), product["name"]


async def test_products_full_text_search(client: httpx.AsyncClient) -> None:
    page = await list_products(client, q="banarasi silk")
    assert page["total"] > 0
    for product in page["items"]:
        text = f"{product['name']} {product['weave']} {product['description']}".lower()
        assert "banarasi" in text
        assert "silk" in text


@pytest.mark.parametrize(
    ("sort", "key", "descending"),
    [("price_asc", "price_minor", False), ("price_desc", "price_minor", True),
     ("rating", "rating", True), ("newest", "created_at", True)],
)  # fmt: skip
async def test_products_sorting(
    client: httpx.AsyncClient, sort: str, key: str, descending: bool
) -> None:
    items = (await list_products(client, sort=sort, page_size=50))["items"]
    values = [item[key] for item in items]
    assert values == sorted(values, reverse=descending)


async def test_products_pagination(client: httpx.AsyncClient) -> None:
    first = await list_products(
        client, category="sarees", page_size=7, sort="price_asc"
    )
    second = await list_products(
        client, category="sarees", page_size=7, page=2, sort="price_asc"
    )
    beyond = await list_products(client, category="sarees", page_size=7, page=1000)
    assert first["total"] == second["total"] == beyond["total"] == 30
    assert len(first["items"]) == len(second["items"]) == 7
    assert not {p["id"] for p in first["items"]} & {p["id"] for p in second["items"]}
    assert beyond["items"] == []
    assert (await list_products(client, page_size=100))["page_size"] == 100


async def test_products_ignore_unknown_parameters(client: httpx.AsyncClient) -> None:
    page = await list_products(client, category="bags", utm_source="newsletter")
    assert all(product["category"] == "bags" for product in page["items"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_price": -1}, "min_price"),
        ({"max_price": -5}, "max_price"),
        ({"min_price": "cheap"}, "min_price"),
        ({"sort": "popularity"}, "sort"),
        ({"page": 0}, "page"),
        ({"page_size": 101}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"category": "hats"}, "category"),
        ({"category": "bogus", "color": "red"}, "category"),
        ({"min_price": 50, "max_price": 10}, "max_price"),
        ({"min_price": 100, "max_price": "99.99"}, "max_price"),
        ({"q": "x" * 201}, "q"),
        ({"in_stock": "maybe"}, "in_stock"),
    ],
)
async def test_products_bad_filters(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    response = await client.get(PRODUCTS, params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert [error["field"] for error in body["errors"]] == [field]
    assert field in body["detail"]


async def test_products_equal_price_bounds(client: httpx.AsyncClient) -> None:
    product = (await list_products(client, page_size=1))["items"][0]
    price = product["price_minor"] / 100
    page = await list_products(client, min_price=price, max_price=price)
    assert page["total"] >= 1
    for item in page["items"]:
        assert item["price_minor"] == product["price_minor"]


async def test_product_by_id_and_slug(client: httpx.AsyncClient) -> None:
    product = (await list_products(client, page_size=1))["items"][0]
    by_id = await client.get(f"{PRODUCTS}/{product['id']}")
    by_slug = await client.get(f"{PRODUCTS}/{product['slug']}")
    assert by_id.status_code == 200
    assert by_slug.status_code == 200
    assert by_id.json() == by_slug.json()


@pytest.mark.parametrize("missing", [str(uuid.uuid4()), "no-such-product", "x" * 500])
async def test_product_missing_is_404(client: httpx.AsyncClient, missing: str) -> None:
    response = await client.get(f"{PRODUCTS}/{missing}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def new_product(**changes: Any) -> dict[str, Any]:
    slug = f"test-linen-dress-{uuid.uuid4().hex[:8]}"
    product: dict[str, Any] = {
        "name": "Test Linen Dress",
        "slug": slug,
        "description": "A test dress.",
        "category": "dresses",
        "fabric": "linen",
        "price_minor": 6500,
        "original_price_minor": 8000,
        "currency": "USD",
        "colors": ["Sage", "ivory"],
        "sizes": [{"size": "S", "stock": 2}, {"size": "M", "stock": 0}],
        "tags": ["summer"],
    }
    product.update(changes)
    return product


async def test_admin_creates_updates_deletes(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    headers = await admin_headers(client, db_session)

    created = await client.post(PRODUCTS, json=new_product(), headers=headers)
    assert created.status_code == 201, created.text
    product = created.json()
    assert product["colors"] == ["sage", "ivory"]
    assert product["available_sizes"] == ["S"]
    assert product["total_stock"] == 2
    assert (await list_products(client, q="sage linen"))["total"] == 1

    updated = await client.patch(
        f"{PRODUCTS}/{product['id']}",
        json={"sizes": [{"size": "M", "stock": 5}], "price_minor": 5900},
        headers=headers,
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["available_sizes"] == ["M"]
    assert updated.json()["price_minor"] == 5900
    assert updated.json()["name"] == "Test Linen Dress"

    deleted = await client.delete(f"{PRODUCTS}/{product['id']}", headers=headers)
    assert deleted.status_code == 204
    assert (await client.get(f"{PRODUCTS}/{product['id']}")).status_code == 404


def error_fields(response: httpx.Response) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


async def create_test_product(
    client: httpx.AsyncClient, headers: dict[str, str], **changes: Any
) -> dict[str, Any]:
    response = await client.post(PRODUCTS, json=new_product(**changes), headers=headers)
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


async def test_admin_write_duplicate_slug(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    headers = await admin_headers(client, db_session)
    existing = (await list_products(client, page_size=1))["items"][0]
    response = await client.post(
        PRODUCTS, json=new_product(slug=existing["slug"]), headers=headers
    )
    assert response.status_code == 409
    assert error_fields(response) == ["slug"]
    assert existing["slug"] in response.json()["detail"]


async def test_admin_update_duplicate_slug(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    headers = await admin_headers(client, db_session)
    existing = (await list_products(client, page_size=1))["items"][0]
    product = await create_test_product(client, headers)
    response = await client.patch(
        f"{PRODUCTS}/{product['id']}", json={"slug": existing["slug"]}, headers=headers
    )
    assert response.status_code == 409, response.text
    assert error_fields(response) == ["slug"]
    assert existing["slug"] in response.json()["detail"]
    after = await client.get(f"{PRODUCTS}/{product['id']}")
    assert after.json()["slug"] == product["slug"]


# Every field of an update whose column is NOT NULL.
NOT_NULL_FIELDS = [
    "name",
    "slug",
    "description",
    "category",
    "care",
    "price_minor",
    "currency",
    "rating",
    "review_count",
    "featured",
    "colors",
    "sizes",
    "image_urls",
    "tags",
]


@pytest.mark.parametrize("field", NOT_NULL_FIELDS)
async def test_admin_update_null_rejected(
    client: httpx.AsyncClient, db_session: AsyncSession, field: str
) -> None:
    headers = await admin_headers(client, db_session)
    product = await create_test_product(client, headers)
    response = await client.patch(
        f"{PRODUCTS}/{product['id']}", json={field: None}, headers=headers
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert error_fields(response) == [field]
    assert response.json()["request_id"]
    after = await client.get(f"{PRODUCTS}/{product['id']}")
    assert after.json() == product


async def test_admin_update_null_clears_optional(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    headers = await admin_headers(client, db_session)
    product = await create_test_product(client, headers, weave="jamdani")
    cleared = {
        "subcategory": None,
        "fabric": None,
        "weave": None,
        "origin": None,
        "original_price_minor": None,
    }
    response = await client.patch(
        f"{PRODUCTS}/{product['id']}", json=cleared, headers=headers
    )
    assert response.status_code == 200, response.text
    for field in cleared:
        assert response.json()[field] is None, field


async def test_update_schema_not_null_fields(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    properties = schema["components"]["schemas"]["ProductUpdate"]["properties"]
    for field in NOT_NULL_FIELDS:
        assert {"type": "null"} not in properties[field].get("anyOf", []), field
    assert {"type": "null"} in properties["fabric"]["anyOf"]


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        "vbscript:msgbox(1)",
        "ftp://example.com/dress.jpg",
        "file:///etc/passwd",
        "images/dress.jpg",
        "//evil.example/dress.jpg",
        "/\\evil.example/dress.jpg",
        "https://",
        "https:///dress.jpg",
        "http:dress.jpg",
        "https://shop.example@evil.example/dress.jpg",
        "https://cdn.example.com:99999/dress.jpg",
        "https://cdn.example.com/summer dress.jpg",
        "https://cdn.example.com/dress.jpg\n",
        "/images/\x00dress.jpg",
        "",
        "https://cdn.example.com/" + "a" * 2048,
    ],
)
async def test_admin_write_image_url_rejected(
    client: httpx.AsyncClient, db_session: AsyncSession, url: str
) -> None:
    headers = await admin_headers(client, db_session)
    valid = "https://cdn.example.com/dress.jpg"
    created = await client.post(
        PRODUCTS, json=new_product(image_urls=[valid, url]), headers=headers
    )
    assert created.status_code == 422, created.text
    assert error_fields(created) == ["image_urls.1"]

    product = await create_test_product(client, headers)
    updated = await client.patch(
        f"{PRODUCTS}/{product['id']}", json={"image_urls": [url]}, headers=headers
    )
    assert updated.status_code == 422, updated.text
    assert error_fields(updated) == ["image_urls.0"]
    after = await client.get(f"{PRODUCTS}/{product['id']}")
    assert after.json()["image_urls"] == []


async def test_admin_write_image_urls_accepted(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    headers = await admin_headers(client, db_session)
    urls = [
        "https://cdn.example.com/products/dress-1.jpg?w=800&fit=crop",
        "HTTP://cdn.example.com:8080/dress-2.jpg",
        "https://[2001:db8::1]/dress-3.jpg",
        "/images/products/test-linen-dress-1.jpg",
        "https://cdn.example.com/" + "a" * 2000,
    ]
    product = await create_test_product(client, headers, image_urls=urls)
    assert product["image_urls"] == urls
    updated = await client.patch(
        f"{PRODUCTS}/{product['id']}", json={"image_urls": urls[:1]}, headers=headers
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["image_urls"] == urls[:1]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"category": "hats"}, "category"),
        ({"price_minor": -1}, "price_minor"),
        ({"original_price_minor": 100}, "original_price_minor"),
        ({"sizes": []}, "sizes"),
        ({"sizes": [{"size": "S", "stock": -1}]}, "sizes"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"currency": "EUR"}, "currency"),
        ({"is_admin": True}, "is_admin"),
    ],
)
async def test_admin_write_invalid(
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    changes: dict[str, Any],
    field: str,
) -> None:
    headers = await admin_headers(client, db_session)
    response = await client.post(PRODUCTS, json=new_product(**changes), headers=headers)
    assert response.status_code == 422, response.text
    fields = [name.split(".")[0] for name in error_fields(response)]
    assert fields == [field]


async def test_admin_update_original_below_price(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    headers = await admin_headers(client, db_session)
    product = await create_test_product(client, headers)
    response = await client.patch(
        f"{PRODUCTS}/{product['id']}", json={"price_minor": 9000}, headers=headers
    )
    assert response.status_code == 422, response.text
    assert error_fields(response) == ["original_price_minor"]


async def test_shopper_cannot_write_catalogue(client: httpx.AsyncClient) -> None:
    headers = await register_and_login(client)
    product = (await list_products(client, page_size=1))["items"][0]
    attempts = [
        client.post(PRODUCTS, json=new_product(), headers=headers),
        client.patch(
            f"{PRODUCTS}/{product['id']}", json={"price_minor": 1}, headers=headers
        ),
        client.delete(f"{PRODUCTS}/{product['id']}", headers=headers),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get(f"{PRODUCTS}/{product['id']}")).json() == product


async def test_anonymous_cannot_write_catalogue(client: httpx.AsyncClient) -> None:
    response = await client.post(PRODUCTS, json=new_product())
    assert response.status_code == 401


async def test_admin_update_missing_product(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    headers = await admin_headers(client, db_session)
    response = await client.patch(
        f"{PRODUCTS}/{uuid.uuid4()}", json={"price_minor": 100}, headers=headers
    )
    assert response.status_code == 404


async def test_store_policies(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/store/policies")
    assert response.status_code == 200
    topics = {policy["topic"]: policy for policy in response.json()}
    assert set(topics) == {"returns", "exchanges", "shipping", "sizing"}
    assert "30 days" in topics["returns"]["summary"]
