"""The demo collection: handloom lines and western wear, generated the same
way every time from a fixed random seed, and the store policies."""

import random
import re
from dataclasses import dataclass

from pravis_api.models.product import APPAREL_SIZES, ONE_SIZE, ProductCreate, SizeStock

SEED = 2026

SHOE_SIZES = ("5", "6", "7", "8", "9", "10", "11")
RING_SIZES = ("5", "6", "7", "8", "9")


@dataclass(frozen=True, slots=True)
class Line:
    """How to make the products of one category."""

    category: str
    count: int
    kinds: tuple[str, ...]  # subcategories, also the noun of the name
    fabrics: tuple[str | None, ...]
    colors: tuple[str, ...]
    price_range: tuple[int, int]  # major units
    sizes: tuple[str, ...]
    weaves: tuple[tuple[str, str], ...] = ()  # (weave, origin)
    details: tuple[str, ...] = ()


_JEWEL_TONES = ("crimson", "maroon", "emerald", "mustard", "indigo", "magenta", "gold")
_EVERYDAY = ("black", "white", "navy", "beige", "grey", "olive", "blue", "red", "pink")
_BRIGHT = ("red", "pink", "yellow", "green", "orange", "teal", "lavender", "peach")
_NEUTRAL = ("ivory", "cream", "beige", "tan", "brown", "grey", "black", "white")

LINES = (
    Line(
        category="sarees",
        count=30,
        kinds=("saree",),
        fabrics=("silk", "cotton", "tussar", "georgette", "linen"),
        colors=(*_JEWEL_TONES, "ivory", "red", "pink", "teal"),
        price_range=(80, 450),
        sizes=(ONE_SIZE,),
        weaves=(
            ("Banarasi", "Varanasi, Uttar Pradesh"),
            ("Kanjeevaram", "Kanchipuram, Tamil Nadu"),
            ("Chanderi", "Chanderi, Madhya Pradesh"),
            ("Jamdani", "Phulia, West Bengal"),
            ("Ikat", "Pochampally, Telangana"),
            ("Bhagalpuri", "Bhagalpur, Bihar"),
        ),
        details=("zari border", "temple border", "woven buttis", "contrast pallu"),
    ),
    Line(
        category="kurtas",
        count=26,
        kinds=("straight kurta", "a-line kurta", "anarkali kurta", "kurti"),
        fabrics=("cotton", "khadi", "linen", "silk"),
        colors=_BRIGHT + _NEUTRAL,
        price_range=(30, 120),
        sizes=APPAREL_SIZES,
        weaves=(
            ("Chikankari", "Lucknow, Uttar Pradesh"),
            ("Block-print", "Jaipur, Rajasthan"),
            ("Kalamkari", "Srikalahasti, Andhra Pradesh"),
            ("Handloom", "Kutch, Gujarat"),
        ),
        details=("mandarin collar", "three-quarter sleeves", "side slits", "pintucks"),
    ),
    Line(
        category="suits",
        count=20,
        kinds=("salwar suit", "palazzo set", "sharara set"),
        fabrics=("cotton", "silk", "georgette", "chanderi"),
        colors=_JEWEL_TONES + _BRIGHT,
        price_range=(60, 250),
        sizes=APPAREL_SIZES,
        weaves=(
            ("Gota-patti", "Jaipur, Rajasthan"),
            ("Phulkari", "Patiala, Punjab"),
            ("Chikankari", "Lucknow, Uttar Pradesh"),
        ),
        details=("matching dupatta", "embroidered yoke", "cotton lining"),
    ),
    Line(
        category="dupattas",
        count=18,
        kinds=("dupatta",),
        fabrics=("chiffon", "silk", "cotton", "organza"),
        colors=_BRIGHT + _JEWEL_TONES,
        price_range=(20, 90),
        sizes=(ONE_SIZE,),
        weaves=(
            ("Bandhani", "Bhuj, Gujarat"),
            ("Phulkari", "Patiala, Punjab"),
            ("Banarasi", "Varanasi, Uttar Pradesh"),
            ("Leheriya", "Jodhpur, Rajasthan"),
        ),
        details=("tasselled ends", "gota lace edge", "hand-tied dots"),
    ),
    Line(
        category="stoles",
        count=16,
        kinds=("stole", "shawl"),
        fabrics=("wool", "pashmina", "cotton", "silk"),
        colors=(*_NEUTRAL, "maroon", "navy", "teal"),
        price_range=(25, 150),
        sizes=(ONE_SIZE,),
        weaves=(
            ("Kani", "Kashmir"),
            ("Kullu", "Kullu, Himachal Pradesh"),
            ("Handloom", "Nagaland"),
        ),
        details=("fringed edges", "reversible weave", "geometric border"),
    ),
    Line(
        category="dresses",
        count=28,
        kinds=("wrap dress", "maxi dress", "midi dress", "shift dress", "slip dress"),
        fabrics=("linen", "cotton", "silk", "crepe", "viscose"),
        # Red is the boutique's signature colour for dresses.
        colors=("red", "black", "navy", "white", "red", "beige", "emerald", "pink")
        + ("crimson", "blue", "red", "olive", "grey"),
        price_range=(40, 220),
        sizes=APPAREL_SIZES,
        details=("tie waist", "puff sleeves", "side pockets", "smocked bodice"),
    ),
    Line(
        category="tops",
        count=22,
        kinds=("blouse", "tee", "camisole", "tunic"),
        fabrics=("cotton", "silk", "linen", "jersey"),
        colors=_EVERYDAY + _BRIGHT,
        price_range=(20, 90),
        sizes=APPAREL_SIZES,
        details=("relaxed fit", "square neck", "shell buttons"),
    ),
    Line(
        category="shirts",
        count=18,
        kinds=("oxford shirt", "camp shirt", "poplin shirt"),
        fabrics=("cotton", "linen", "silk"),
        colors=_EVERYDAY,
        price_range=(30, 110),
        sizes=APPAREL_SIZES,
        details=("patch pocket", "curved hem", "mother-of-pearl buttons"),
    ),
    Line(
        category="trousers",
        count=20,
        kinds=("wide-leg trousers", "straight trousers", "jeans", "chinos"),
        fabrics=("linen", "cotton", "denim", "wool"),
        colors=_EVERYDAY + _NEUTRAL,
        price_range=(35, 140),
        sizes=APPAREL_SIZES,
        details=("high rise", "pressed crease", "elastic back waist"),
    ),
    Line(
        category="skirts",
        count=16,
        kinds=("midi skirt", "pleated skirt", "a-line skirt", "lehenga skirt"),
        fabrics=("silk", "cotton", "linen", "satin"),
        colors=_EVERYDAY + _JEWEL_TONES,
        price_range=(30, 160),
        sizes=APPAREL_SIZES,
        details=("knife pleats", "hidden zip", "flared hem"),
    ),
    Line(
        category="jackets",
        count=18,
        kinds=("blazer", "denim jacket", "trench coat", "nehru jacket"),
        fabrics=("wool", "denim", "cotton", "leather", "khadi"),
        colors=_EVERYDAY + _NEUTRAL,
        price_range=(70, 320),
        sizes=APPAREL_SIZES,
        details=("notch lapels", "horn buttons", "quilted lining"),
    ),
    Line(
        category="knitwear",
        count=20,
        kinds=("sweater", "cardigan", "turtleneck", "pullover"),
        fabrics=("wool", "cashmere", "cotton", "merino"),
        colors=(*_NEUTRAL, "navy", "maroon", "olive"),
        price_range=(45, 260),
        sizes=APPAREL_SIZES,
        details=("ribbed cuffs", "cable knit", "relaxed shoulders"),
    ),
    Line(
        category="shoes",
        count=22,
        kinds=("sneakers", "heels", "sandals", "boots", "flats", "juttis"),
        fabrics=("leather", "canvas", "suede"),
        colors=(*_EVERYDAY, "gold", "tan"),
        price_range=(40, 220),
        sizes=SHOE_SIZES,
        details=("cushioned insole", "block heel", "hand-stitched sole"),
    ),
    Line(
        category="bags",
        count=18,
        kinds=("tote", "clutch", "crossbody bag", "potli bag", "backpack"),
        fabrics=("leather", "canvas", "jute", "silk"),
        colors=(*_NEUTRAL, "red", "gold", "emerald"),
        price_range=(35, 300),
        sizes=(ONE_SIZE,),
        details=("magnetic clasp", "detachable strap", "inner zip pocket"),
    ),
    Line(
        category="scarves",
        count=16,
        kinds=("scarf", "square scarf"),
        fabrics=("silk", "wool", "cotton", "cashmere"),
        colors=_BRIGHT + _NEUTRAL,
        price_range=(20, 120),
        sizes=(ONE_SIZE,),
        details=("hand-rolled edges", "floral print", "paisley print"),
    ),
    Line(
        category="jewellery",
        count=18,
        kinds=("jhumkas", "necklace", "bangles", "earrings", "ring"),
        fabrics=(None,),
        colors=("gold", "silver", *_JEWEL_TONES[:3]),
        price_range=(15, 250),
        sizes=(ONE_SIZE,),
        weaves=(
            ("Kundan", "Jaipur, Rajasthan"),
            ("Oxidised", "Delhi"),
            ("Temple", "Nagercoil, Tamil Nadu"),
            ("Meenakari", "Jaipur, Rajasthan"),
        ),
        details=("hand-set stones", "screw-back fastening", "adjustable fit"),
    ),
)

CARE = {
    "silk": "Dry clean only. Store folded in muslin, away from direct sunlight.",
    "tussar": "Dry clean only. Store folded in muslin, away from direct sunlight.",
    "cotton": "Machine wash cold on a gentle cycle; dry in shade.",
    "khadi": "Hand wash cold separately; dry in shade and iron while damp.",
    "linen": "Machine wash cold; line dry and iron while damp.",
    "wool": "Hand wash cold with wool detergent; dry flat.",
    "merino": "Hand wash cold with wool detergent; dry flat.",
    "cashmere": "Hand wash cold or dry clean; dry flat.",
    "pashmina": "Dry clean only.",
    "denim": "Machine wash cold inside out; line dry.",
    "leather": "Wipe with a soft dry cloth; condition twice a year.",
    "suede": "Brush gently with a suede brush; keep dry.",
    "canvas": "Spot clean with a damp cloth.",
    "jute": "Spot clean with a damp cloth; keep dry.",
}
DEFAULT_CARE = "Gentle hand wash cold or dry clean; dry in shade."
JEWELLERY_CARE = "Keep away from water and perfume; store in the pouch provided."


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _title(words: str) -> str:
    return " ".join(word[:1].upper() + word[1:] for word in words.split())


def _describe(
    kind: str,
    color: str,
    fabric: str | None,
    weave: str | None,
    origin: str | None,
    detail: str | None,
    colors: list[str],
) -> str:
    plural = kind.endswith("s") and not kind.endswith("ss")
    article = "" if plural else ("An " if color[0] in "aeiou" else "A ")
    material = f"in {fabric}" if fabric else "in gold-plated brass"
    if fabric is None and color == "silver":
        material = "in sterling silver"
    opening = f"{article}{color} {kind} {material}"
    sentences = [
        opening[0].upper() + opening[1:] + (f" with {detail}." if detail else ".")
    ]
    if weave == "Handloom" and origin:
        sentences.append(f"Handwoven in {origin}.")
    elif weave and origin:
        made = "Crafted" if fabric is None else "Made"
        sentences.append(f"{made} in the {weave} style of {origin}.")
    if len(colors) > 1:
        sentences.append(f"Accents in {colors[1]}.")
    return " ".join(sentences)


def _price(rng: random.Random, low: int, high: int) -> int:
    """A shop-like price in minor units, more often near the low end."""
    major = round(rng.triangular(low, high, low + (high - low) * 0.25))
    major = major - major % 5 + (4 if major > 30 and rng.random() < 0.6 else 0)
    return max(low, major) * 100


def _stock(
    rng: random.Random, sizes: tuple[str, ...], sold_out: bool
) -> list[SizeStock]:
    return [
        SizeStock(
            size=size,
            stock=0 if sold_out or rng.random() < 0.15 else rng.randint(1, 12),
        )
        for size in sizes
    ]


def _product(rng: random.Random, line: Line, index: int) -> ProductCreate:
    kind = line.kinds[index % len(line.kinds)]
    color = line.colors[index % len(line.colors)]
    fabric = rng.choice(line.fabrics)
    weave, origin = rng.choice(line.weaves) if line.weaves else (None, None)
    detail = rng.choice(line.details) if line.details else None

    name_parts = [color, weave or "", fabric or "", kind]
    name = _title(" ".join(part for part in name_parts if part))
    second_color = rng.choice([c for c in line.colors if c != color])
    colors = [color] if rng.random() < 0.6 else [color, second_color]

    description = _describe(kind, color, fabric, weave, origin, detail, colors)

    price_minor = _price(rng, *line.price_range)
    on_sale = rng.random() < 0.3
    original_price_minor = (
        int(round(price_minor * rng.uniform(1.2, 1.5), -2)) if on_sale else None
    )
    sizes = line.sizes if kind != "ring" else RING_SIZES
    if line.category == "jewellery":
        care = JEWELLERY_CARE
    else:
        care = CARE.get(fabric or "", DEFAULT_CARE)
    tags = [kind.split()[-1], color] + ([weave.lower()] if weave else [])
    if line.category in ("sarees", "kurtas", "suits", "dupattas", "stoles"):
        tags.append("handloom")

    return ProductCreate(
        name=name,
        slug=slugify(name),
        description=description,
        category=line.category,
        subcategory=kind,
        fabric=fabric,
        weave=weave,
        origin=origin,
        care=care,
        price_minor=price_minor,
        original_price_minor=original_price_minor,
        currency="USD",
        rating=round(rng.uniform(3.6, 5.0), 1),
        review_count=rng.randint(0, 420),
        featured=rng.random() < 0.1,
        colors=colors,
        sizes=_stock(rng, sizes, sold_out=rng.random() < 0.05),
        image_urls=[f"/images/products/{slugify(name)}-{n}.jpg" for n in (1, 2)],
        tags=tags,
    )


def demo_products(currency: str = "USD") -> list[ProductCreate]:
    """Return the demo collection, the same list on every call."""
    rng = random.Random(SEED)  # noqa: S311 (demo data, not security)
    products: list[ProductCreate] = []
    seen: dict[str, int] = {}
    for line in LINES:
        for index in range(line.count):
            product = _product(rng, line, index)
            # The same colour, weave, fabric and kind can come up twice.
            seen[product.slug] = seen.get(product.slug, 0) + 1
            if seen[product.slug] > 1:
                product.slug = f"{product.slug}-{seen[product.slug]}"
            product.currency = currency
            products.append(product)
    return products


DEMO_POLICIES = {
    "returns": (
        "Returns",
        "You can return unworn items with their tags within 30 days of delivery "
        "for a full refund to your original payment method.",
        "Returns are free within the United States: start one from your "
        "profile and print the prepaid label. Items must be unworn, unwashed "
        "and have their tags attached. Refunds reach your original payment "
        "method within 5 to 7 business days of the return arriving. Sarees "
        "with a stitched blouse, earrings and final-sale items cannot be "
        "returned.",
    ),
    "exchanges": (
        "Exchanges",
        "You can exchange an item for another size or colour within 30 days, "
        "and the first exchange of an order ships free.",
        "Request an exchange from your profile within 30 days of delivery. We "
        "ship the replacement as soon as the original is scanned by the "
        "carrier. If the new item costs more, we charge the difference; if it "
        "costs less, we refund it.",
    ),
    "shipping": (
        "Shipping",
        "Standard shipping takes 3 to 5 business days and is free on orders "
        "over 75 dollars; express delivery takes 1 to 2 business days.",
        "Standard shipping within the United States costs $6.95 and is free "
        "on orders over $75. Express shipping costs $19.95. International "
        "orders arrive in 7 to 14 business days; duties are shown at "
        "checkout. Handloom pieces made to order ship within 10 days.",
    ),
    "sizing": (
        "Size guide",
        "Our sizes run true to US sizing: extra small is 0 to 2, small 4 to 6, "
        "medium 8 to 10, large 12 to 14, extra large 16 to 18.",
        "XS: US 0-2, bust 32 in. S: US 4-6, bust 34 in. M: US 8-10, bust 36 "
        "in. L: US 12-14, bust 39 in. XL: US 16-18, bust 42 in. XXL: US 20, "
        "bust 45 in. Shoes are US women's sizes 5 to 11. Sarees are one size: "
        "5.5 m of fabric with a 0.8 m unstitched blouse piece.",
    ),
}
