from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.repositories.products import (
    ProductFilters,
    count_matches,
    count_products,
    search_products,
)

# Filter sets of the demo catalogue, one of them matching nothing.
FILTER_SETS = [
    ProductFilters(category="kurtas"),
    ProductFilters(category="dresses", color="red", max_price_minor=10_000),
    ProductFilters(category="sarees", fabric="silk", min_price_minor=20_000),
    ProductFilters(category="shoes", size="8"),
    ProductFilters(keywords=("linen",), category="shirts"),
    ProductFilters(category="kurtas", min_price_minor=1, max_price_minor=2),
]


async def lowest_price(session: AsyncSession, filters: ProductFilters) -> int | None:
    products, _ = await search_products(
        session, filters, sort="price_asc", limit=1, offset=0
    )
    return products[0].price_minor if products else None


async def test_count_matches_agrees_with_one_query_each(
    db_session: AsyncSession, catalogue: None
) -> None:
    matches = await count_matches(db_session, FILTER_SETS)

    assert len(matches) == len(FILTER_SETS)
    for filters, (count, lowest) in zip(FILTER_SETS, matches, strict=True):
        assert count == await count_products(db_session, filters), filters
        assert lowest == await lowest_price(db_session, filters), filters
    assert matches[-1] == (0, None)
    assert all(count > 0 for count, _ in matches[:-1])


async def test_count_matches_of_nothing(db_session: AsyncSession) -> None:
    assert await count_matches(db_session, []) == []
