"""The recogniser's boutique language model, built from the live catalogue.

A trigram model of shopper requests (the phrasings of phrases.py filled
with the catalogue's categories, colours, fabrics, weaves and product names)
and a dictionary trimmed to its words, plus the 3,000 most common English
words as background. Boutique words alone would force any speech into
boutique words ("go forward ten meters" came out as "go for and ten the
first"). With the background words, speech about something else is mostly
recognised as ordinary words, and the voice pipeline gives no action when
too many of the words are outside the boutique's own (the `.words` file).
"""

import hashlib
import os
import random
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from num2words import num2words
from pocketsphinx.lm import ArpaBoLM

from pravis_api.services.assistant.lexicon import (
    CATEGORY_WORDS,
    COLOR_WORDS,
    FABRIC_WORDS,
    PAGE_WORDS,
)
from pravis_api.services.speech import phrases
from pravis_api.services.speech.pronunciation import pronounce

if TYPE_CHECKING:
    from pravis_api.models.product import ProductCreate

# Bump when the templates change, so models built by older code are rebuilt.
TEMPLATE_VERSION = "3"

WORDS_SUFFIX = ".words"
BACKGROUND_WORDS_PATH = Path(__file__).parent / "data" / "background-words.txt"
# Each background word appears this many times in the corpus, in runs of
# BACKGROUND_RUN words (see background_lines).
BACKGROUND_WEIGHT = 20
BACKGROUND_RUN = 20

# Prices shoppers name, in dollars.
_PRICES = (
    *range(5, 101, 5), 120, 125, 150, 175, 200, 250, 300, 350, 400, 500, 750, 1000,
    19, 29, 39, 49, 59, 79, 99, 149, 199, 299,
)  # fmt: skip
# Narrowing the last search: "only in red", "just the ones under fifty".
_REFINING = (
    "in",
    "only in",
    "just in",
    "what about",
    "what about in",
    "now in",
    "do you have them in",
    "have you got them in",
    "any in",
    "show me them in",
)
_REFINING_ONES = (
    "the",
    "just the",
    "only the",
    "show me the",
    "what about the",
    "i want the",
    "any",
)


@dataclass(frozen=True, slots=True)
class CatalogueVocabulary:
    """What the catalogue holds that shoppers may say, all lower case."""

    product_names: tuple[str, ...]
    kinds: tuple[str, ...]
    weaves: tuple[str, ...]
    colors: tuple[str, ...]
    fabrics: tuple[str, ...]


def vocabulary_of(products: Iterable["ProductCreate"]) -> CatalogueVocabulary:
    """The vocabulary of products not read from the database: the demo
    catalogue, for the spoken-set tests and the accuracy benchmark."""
    products = list(products)

    def words(values: Iterable[str | None]) -> tuple[str, ...]:
        return spoken_values(value for value in values if value is not None)

    return CatalogueVocabulary(
        product_names=words(product.name for product in products),
        kinds=words(product.subcategory for product in products),
        weaves=words(product.weave for product in products),
        colors=words(color for product in products for color in product.colors),
        fabrics=words(product.fabric for product in products),
    )


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """A built model: its version (a hash of its corpus) and its files."""

    version: str
    lm_path: str
    dict_path: str
    # The corpus's own words, one per line: the background words are not in it.
    words_path: str

    def exist(self) -> bool:
        """Tell whether all three files are on disk."""
        return all(
            Path(path).exists()
            for path in (self.lm_path, self.dict_path, self.words_path)
        )


def spoken(text: str) -> str:
    """Lower-case words only, as the recogniser outputs them."""
    return re.sub(r"\s+", " ", re.sub(r"[^a-z' ]+", " ", text.lower())).strip()


def spoken_values(values: Iterable[str]) -> tuple[str, ...]:
    """Distinct values as spoken words, sorted, without empty ones."""
    return tuple(sorted({spoken(value) for value in values} - {""}))


def _number_words(value: int) -> str:
    return spoken(num2words(value).replace("-", " ").replace(" and ", " "))


def build_corpus(vocabulary: CatalogueVocabulary, *, seed: int = 0) -> list[str]:
    """Sentences of the kind shoppers say, covering every vocabulary word.

    Every table of phrases.py is sampled often enough that each phrasing
    appears several times; the catalogue's words fill the gaps.
    """
    rng = random.Random(seed)  # noqa: S311 (sampling, not security)

    def pick(options: Sequence[str]) -> str:
        return rng.choice(options)

    categories = sorted(CATEGORY_WORDS)
    colors = sorted(set(COLOR_WORDS) | set(vocabulary.colors))
    fabrics = sorted(set(FABRIC_WORDS) | set(vocabulary.fabrics))
    weaves = vocabulary.weaves or ("silk",)
    prices = [_number_words(n) for n in _PRICES]
    shoe_sizes = [_number_words(n) for n in range(3, 13)]

    def description() -> str:
        shape = rng.randrange(6)
        if shape == 0:
            return f"{pick(colors)} {pick(categories)}"
        if shape == 1:
            return f"{pick(fabrics)} {pick(categories)}"
        if shape == 2:
            return f"{pick(colors)} {pick(fabrics)} {pick(categories)}"
        if shape == 3:
            return f"{pick(weaves)} {pick(categories)}"
        if shape == 4 and vocabulary.kinds:
            return pick(vocabulary.kinds)
        return pick(categories)

    def amount() -> str:
        return f"{pick(prices)} {pick(phrases.CURRENCY)}"

    def price_range() -> str:
        shape = rng.randrange(5)
        if shape == 0:
            return f"{pick(phrases.AT_LEAST)} {amount()}"
        if shape == 1:
            return f"{pick(phrases.AROUND)} {amount()}"
        if shape == 2:
            return f"between {pick(prices)} and {amount()}"
        return f"{pick(phrases.AT_MOST)} {amount()}"

    def size() -> str:
        if rng.random() < 0.3:
            return f"size {pick(shoe_sizes)}"
        return pick(phrases.SIZES)

    def sized() -> str:
        return f"{pick(phrases.SIZE_LEADS)} {size()}"

    def product() -> str:
        shape = rng.randrange(4)
        if shape == 0:
            return pick(phrases.PRONOUNS)
        if shape == 1:
            return f"the {pick(phrases.ORDINALS)} {pick(categories)}"
        if shape == 2:
            return f"number {pick(phrases.QUANTITIES)}"
        return f"the {pick(phrases.ORDINALS)} {pick(phrases.ITEM_NOUNS)}"

    def about_product(templates: Sequence[str], named: str | None = None) -> str:
        return pick(templates).format(
            x=named or product(), size=size(), quantity=pick(phrases.QUANTITIES)
        )

    def framed(request: str) -> str:
        return f"{pick(phrases.LEAD_INS)} {request} {pick(phrases.TAGS)}"

    def search() -> str:
        opening = f"{pick(phrases.SEARCH_OPENINGS)} {pick(phrases.DETERMINERS)}"
        ending = rng.randrange(4)
        if ending == 0:
            return f"{opening} {description()} {price_range()}"
        if ending == 1:
            return f"{opening} {description()} {sized()}"
        return f"{opening} {description()} {pick(phrases.SEARCH_QUALIFIERS)}"

    def refinement() -> str:
        shape = rng.randrange(6)
        if shape == 0:
            return f"{pick(_REFINING)} {pick(colors)}"
        if shape == 1:
            return f"{pick(_REFINING)} {pick(fabrics)}"
        if shape == 2:
            return f"{pick(_REFINING)} {sized()}"
        if shape == 3:
            return f"{pick(_REFINING_ONES)} {pick(colors)} ones"
        return f"{pick(_REFINING_ONES)} ones {price_range()}"

    def navigation() -> str:
        page = f"{pick(phrases.PAGE_DETERMINERS)} {pick(sorted(PAGE_WORDS))}"
        return f"{pick(phrases.NAVIGATE_VERBS)} {page}"

    generators: list[tuple[int, Callable[[], str]]] = [
        (4000, search),
        (800, refinement),
        (500, lambda: about_product(phrases.DETAILS)),
        (500, lambda: about_product(phrases.PRICE)),
        (500, lambda: about_product(phrases.AVAILABILITY)),
        (600, lambda: about_product(phrases.ADD_TO_CART)),
        (300, lambda: pick(phrases.CHECKOUT)),
        (150, lambda: pick(phrases.BACK)),
        (500, navigation),
        (150, lambda: pick(phrases.GREETINGS)),
        (200, lambda: pick(phrases.HELP)),
        (600, lambda: pick(phrases.POLICY)),
    ]
    sentences = [framed(make()) for count, make in generators for _ in range(count)]
    for name in vocabulary.product_names:
        sentences += [
            framed(f"{pick(phrases.SEARCH_OPENINGS)} the {name}"),
            framed(about_product(phrases.ADD_TO_CART, f"the {name}")),
            framed(about_product(phrases.DETAILS + phrases.PRICE, f"the {name}")),
        ]
    # Each word of the tables at least once, in its own sentence.
    sentences += [
        *categories, *colors, *fabrics, *weaves, *vocabulary.kinds, *prices,
        *phrases.GREETINGS, *phrases.HELP, *phrases.CHECKOUT, *phrases.BACK,
        *phrases.POLICY,
    ]  # fmt: skip
    return [spoken(sentence) for sentence in sentences if spoken(sentence)]


def background_lines(words: list[str], *, seed: int = 0) -> list[str]:
    """Return the background words as runs of BACKGROUND_RUN words, shuffled.

    Runs rather than one word per line, so the words gain weight as words
    but hardly any as the start of a sentence, which is where the boutique's
    requests begin ("good morning" was heard as "dogs warming" otherwise).
    """
    rng = random.Random(seed)  # noqa: S311 (sampling, not security)
    lines = []
    for _ in range(BACKGROUND_WEIGHT):
        shuffled = rng.sample(words, len(words))
        lines += [
            " ".join(shuffled[start : start + BACKGROUND_RUN])
            for start in range(0, len(shuffled), BACKGROUND_RUN)
        ]
    return lines


def background_words() -> list[str]:
    return BACKGROUND_WORDS_PATH.read_text(encoding="utf-8").split()


def _dictionary(words: set[str]) -> tuple[str, list[str]]:
    lines, missing = [], []
    for word in sorted(words):
        pronunciations = pronounce(word)
        if not pronunciations:
            missing.append(word)
        for index, phones in enumerate(pronunciations):
            label = word if index == 0 else f"{word}({index + 1})"
            lines.append(f"{label} {phones}")
    return "\n".join(lines) + "\n", missing


def build_model(vocabulary: CatalogueVocabulary, directory: Path) -> ModelFiles:
    """Write the language model and dictionary, unless this version exists.

    CPU-bound for about a second: run it in a speech worker.
    """
    corpus = build_corpus(vocabulary)
    background = background_words()
    text = "\n".join(corpus + background_lines(background))
    version = hashlib.sha256(f"{TEMPLATE_VERSION}\n{text}".encode()).hexdigest()[:16]
    stem = directory / f"boutique-{version}"
    files = ModelFiles(version, f"{stem}.lm", f"{stem}.dict", f"{stem}{WORDS_SUFFIX}")
    if files.exist():
        return files

    directory.mkdir(parents=True, exist_ok=True)
    boutique_words = {word for sentence in corpus for word in sentence.split()}
    dictionary, _missing = _dictionary(boutique_words | set(background))
    model = ArpaBoLM(text=text, add_start=True)
    model.compute()
    # Write to temporary names first: other processes may load these paths.
    # The language model goes last, as the others are checked by its name.
    temporary_lm = _temporary_name(Path(files.lm_path))
    model.write_file(str(temporary_lm))
    _write_replacing(Path(files.dict_path), dictionary)
    _write_replacing(Path(files.words_path), "\n".join(sorted(boutique_words)) + "\n")
    temporary_lm.replace(files.lm_path)
    return files


def _temporary_name(path: Path) -> Path:
    # Unique per process and call: the API's processes may build the same
    # version at once, and a shared name let one rename the other's half-
    # written file into place.
    return path.with_name(f"{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")


def _write_replacing(path: Path, text: str) -> None:
    temporary = _temporary_name(path)
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def read_words(files: ModelFiles) -> frozenset[str]:
    return frozenset(Path(files.words_path).read_text(encoding="utf-8").split())
