"""Words shoppers use for the catalogue's categories, colours, sizes and fabrics.

Each table maps a spoken form, singular and plural, to the catalogue's own
value. Multi-word forms are matched before single words.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CategoryWord:
    category: str
    # A narrower kind within the category ("sneakers" among shoes), searched
    # as a keyword; None when the word names the whole category.
    kind: str | None = None


def _category_words() -> dict[str, CategoryWord]:
    words: dict[str, CategoryWord] = {}

    def add(category: str, forms: list[str], *, kind: bool = False) -> None:
        for form in forms:
            words[form] = CategoryWord(category, form.rstrip("s") if kind else None)

    add("sarees", ["saree", "sarees", "sari", "saris"])
    add("kurtas", ["kurta", "kurtas", "kurti", "kurtis"])
    add("suits", ["suit", "suits", "salwar suit", "salwar suits", "salwar kameez"])
    add("suits", ["sharara", "shararas", "palazzo set", "palazzo sets"], kind=True)
    add("dupattas", ["dupatta", "dupattas", "chunni", "chunnis"])
    add("stoles", ["stole", "stoles"])
    add("stoles", ["shawl", "shawls", "pashmina", "pashminas"], kind=True)
    add("dresses", ["dress", "dresses", "frock", "frocks", "gown", "gowns"])
    add("dresses", ["maxi dress", "maxi dresses", "midi dress", "midi dresses"])
    add("tops", ["top", "tops", "t shirt", "t shirts", "tee", "tees"])
    add(
        "tops",
        ["blouse", "blouses", "tunic", "tunics", "camisole", "camisoles"],
        kind=True,
    )
    add("shirts", ["shirt", "shirts", "button down", "button downs"])
    add("trousers", ["trouser", "trousers", "pants", "pant", "slacks"])
    add("trousers", ["jeans", "chinos", "palazzos", "palazzo pants"], kind=True)
    add("skirts", ["skirt", "skirts"])
    add("skirts", ["lehenga", "lehengas"], kind=True)
    add("jackets", ["jacket", "jackets", "coat", "coats", "outerwear"])
    add("jackets", ["blazer", "blazers", "trench", "trench coat", "bomber"], kind=True)
    add("knitwear", ["knitwear", "knit", "knits", "sweater", "sweaters", "jumper"])
    add("knitwear", ["jumpers", "pullover", "pullovers", "woollens", "woolens"])
    add("knitwear", ["cardigan", "cardigans", "turtleneck", "turtlenecks"], kind=True)
    add("shoes", ["shoe", "shoes", "footwear"])
    add(
        "shoes",
        ["sneakers", "sneaker", "trainers", "heels", "sandals", "boots"],
        kind=True,
    )
    add(
        "shoes",
        ["flats", "loafers", "juttis", "jutti", "kolhapuris", "mules"],
        kind=True,
    )
    add("bags", ["bag", "bags", "handbag", "handbags", "purse", "purses"])
    add("bags", ["tote", "totes", "clutch", "clutches", "backpack", "potli"], kind=True)
    add("scarves", ["scarf", "scarves", "scarfs"])
    add("jewellery", ["jewellery", "jewelry", "jewels", "accessories"])
    add(
        "jewellery",
        ["earrings", "earring", "necklace", "necklaces", "jhumkas"],
        kind=True,
    )
    add("jewellery", ["bangles", "bangle", "bracelet", "bracelets", "rings"], kind=True)
    return words


CATEGORY_WORDS = _category_words()

# Spoken colour names to the catalogue's colour values.
COLOR_WORDS: dict[str, str] = {
    **{
        color: color
        for color in (
            "red", "crimson", "maroon", "pink", "orange", "mustard", "yellow",
            "green", "emerald", "olive", "teal", "blue", "navy", "indigo",
            "purple", "lavender", "white", "ivory", "cream", "beige", "brown",
            "tan", "grey", "black", "gold", "silver", "peach", "magenta",
        )
    },
    "gray": "grey",
    "golden": "gold",
    "navy blue": "navy",
    "off white": "ivory",
    "wine": "maroon",
    "burgundy": "maroon",
    "scarlet": "red",
    "rose": "pink",
    "fuchsia": "magenta",
    "violet": "purple",
    "khaki": "beige",
    "camel": "tan",
    "charcoal": "grey",
}  # fmt: skip

# Spoken sizes to the catalogue's size labels. Shoe sizes are numbers.
SIZE_WORDS: dict[str, str] = {
    "extra extra small": "XXS",
    "extra small": "XS",
    "small": "S",
    "medium": "M",
    "large": "L",
    "extra large": "XL",
    "extra extra large": "XXL",
    "double extra large": "XXL",
    "xxs": "XXS",
    "xs": "XS",
    "s": "S",
    "m": "M",
    "l": "L",
    "xl": "XL",
    "xxl": "XXL",
    "2xl": "XXL",
    "one size": "One Size",
    "free size": "One Size",
}

FABRIC_WORDS: dict[str, str] = {
    **{
        fabric: fabric
        for fabric in (
            "silk", "cotton", "linen", "wool", "cashmere", "chiffon", "georgette",
            "khadi", "organza", "crepe", "denim", "leather", "velvet", "satin",
            "jersey", "suede", "canvas", "jute", "pashmina", "merino", "viscose",
            "tussar",
        )
    },
    "woollen": "wool",
    "woolen": "wool",
    "silken": "silk",
}  # fmt: skip

# Words that name a store policy topic, and the topic.
TOPIC_WORDS: dict[str, str] = {
    "return": "returns",
    "returns": "returns",
    "returning": "returns",
    "refund": "returns",
    "refunds": "returns",
    "send back": "returns",
    "send it back": "returns",
    "exchange": "exchanges",
    "exchanges": "exchanges",
    "exchanging": "exchanges",
    "swap": "exchanges",
    "shipping": "shipping",
    "ship": "shipping",
    "delivery": "shipping",
    "deliver": "shipping",
    "postage": "shipping",
    "size guide": "sizing",
    "size chart": "sizing",
    "sizing": "sizing",
    "what size should": "sizing",
    "sizes run": "sizing",
}

# Spoken names of each page of the shop.
PAGE_WORDS: dict[str, str] = {
    "home page": "home",
    "homepage": "home",
    "main page": "home",
    "front page": "home",
    "home": "home",
    "product catalogue": "products",
    "product catalog": "products",
    "catalogue": "products",
    "catalog": "products",
    "products": "products",
    "product page": "products",
    "collection": "products",
    "shop": "products",
    "shopping cart": "cart",
    "shopping bag": "cart",
    "basket": "cart",
    "cart": "cart",
    "check out page": "checkout",
    "checkout page": "checkout",
    "checkout": "checkout",
    "profile": "profile",
    "account": "profile",
}

# Words that carry no search meaning: command words, politeness, fillers,
# and the words of the entities once they are extracted. A search keeps
# every other word as a keyword that products must match.
STOP_WORDS = frozenset(
    """
    a an the and or of for to in on at by with from me my i i'm im you your we
    our it its this that these those them they please show find search see get
    looking look want need would like could can do does have has got any some
    something anything more other else just also really very nice pretty
    lovely beautiful good great new latest best cheap cheaper expensive under
    below over above less than between around about up most least price
    prices dollar dollars bucks usd size sizes one ones item items product
    products add cart bag basket buy order take ill will is are there what
    which how much many available stock left sell carry browse recommend
    suggest hi hello hey okay ok yes no thanks thank maybe kind sort type
    style styles color colour colours colors fabric made wear wearing tell
    details detail describe description info information cost costs priced
    availability come comes put place purchase will go open view visit
    navigate switch back page home checkout check out pay now profile account
    collection shop catalogue catalog help after same number last quantity
    pieces piece units unit pair pairs let know
    love loving adore fancy may might must shall should wish hope hoping
    wondering interested keen give showing seeing searching shopping
    option options choice choices all whole full entire only still ready
    kindly perhaps actually again right today well too alright hmm um uh er
    pravi wanna gonna minus negative bring jump head done
    i'd i'll i've let's what's that's it's there's here's who's how's
    you'd you'll you're we'd we'll we're we've don't doesn't didn't can't
    won't wouldn't couldn't isn't aren't haven't
    """.split()
) | frozenset(
    # The words of three letters or more in PostgreSQL 15's english.stop list.
    # The english text search configuration drops them. A search whose
    # keywords are all among them gets an empty query, which matches nothing.
    """
    myself ours ourselves yours yourself yourselves him his himself she her
    hers herself itself their theirs themselves who whom was were been being
    had having did doing but because until while against into through during
    before down off again further then once here when where why both each few
    such nor not own don
    """.split()
)
