"""The recogniser's boutique language model, built from the live catalogue.

A trigram model of what shoppers say (command patterns filled with the
catalogue's categories, colours, fabrics, weaves and product names) and a
dictionary trimmed to its words, plus the 3,000 most common English words
with a low weight. Boutique words alone would force any speech into
boutique words ("go forward ten meters" came out as "go for and ten the
first"); with the common words, speech about something else is mostly
heard as ordinary words that the assistant does not act on.
"""

import hashlib
import random
import re
from dataclasses import dataclass
from pathlib import Path

from num2words import num2words
from pocketsphinx.lm import ArpaBoLM

from pravis_api.services.assistant.lexicon import (
    CATEGORY_WORDS,
    COLOR_WORDS,
    FABRIC_WORDS,
    PAGE_WORDS,
)
from pravis_api.services.speech.pronunciation import pronounce

# Bump when the templates change, so models built by older code are rebuilt.
TEMPLATE_VERSION = "2"

BACKGROUND_WORDS_PATH = Path(__file__).parent / "data" / "background-words.txt"
# Each background word counts as this many one-word sentences. With about
# 7,500 boutique sentences, this keeps their probability low but non-zero.
BACKGROUND_WEIGHT = 5

_SEARCH_OPENINGS = (
    "show me", "find", "find me", "i want", "i'm looking for", "do you have",
    "search for", "i need", "any", "",
)  # fmt: skip
_SIZES = (
    "small", "medium", "large", "extra small", "extra large", "x s", "x l", "x x l",
    "one size",
)  # fmt: skip
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "last")
_FIXED = (
    "hello", "hi", "hi there", "good morning", "good evening", "namaste", "help",
    "what can you do", "how does this work", "go back", "back", "previous page",
    "check out", "checkout", "i want to pay", "place my order", "pay now",
    "open my cart", "go to my cart", "show my cart", "go to checkout", "take me home",
    "go to the home page", "show me the collection", "open the catalogue",
    "open my profile", "go to my account", "what is your return policy",
    "can i return it", "how do returns work", "how do refunds work",
    "can i exchange it for another size", "what is your exchange policy",
    "how long does shipping take", "how much is shipping",
    "do you ship internationally", "is delivery free", "do you have a size guide",
    "what size should i get",
    "how do your sizes run", "how much is it", "is it available", "is it in stock",
    "add it to my cart", "add it to my bag", "tell me more", "what is it made of",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CatalogueVocabulary:
    """What the catalogue holds that shoppers may say, all lower case."""

    product_names: tuple[str, ...]
    kinds: tuple[str, ...]
    weaves: tuple[str, ...]
    colors: tuple[str, ...]
    fabrics: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """A built model: its version (a hash of its corpus) and its two files."""

    version: str
    lm_path: str
    dict_path: str


def spoken(text: str) -> str:
    """Lower-case words only, as the recogniser outputs them."""
    return re.sub(r"\s+", " ", re.sub(r"[^a-z' ]+", " ", text.lower())).strip()


def _number_words(value: int) -> str:
    return spoken(num2words(value).replace("-", " ").replace(" and ", " "))


def build_corpus(vocabulary: CatalogueVocabulary, *, seed: int = 0) -> list[str]:
    """Sentences of the kind shoppers say, covering every vocabulary word."""
    rng = random.Random(seed)  # noqa: S311 (sampling, not security)
    categories = sorted(set(CATEGORY_WORDS))
    colors = sorted(set(COLOR_WORDS) | set(vocabulary.colors))
    fabrics = sorted(set(FABRIC_WORDS) | set(vocabulary.fabrics))
    prices = [
        _number_words(n) for n in (*range(10, 101, 5), 120, 150, 200, 250, 300, 500)
    ]
    shoe_sizes = [_number_words(n) for n in range(5, 12)]

    def pick(options: list[str] | tuple[str, ...]) -> str:
        return rng.choice(options)

    sentences: list[str] = list(_FIXED)
    sentences += [f"go to the {page}" for page in PAGE_WORDS]
    for _ in range(600):
        opening, category = pick(_SEARCH_OPENINGS), pick(categories)
        sentences += [
            f"{opening} {pick(colors)} {category}",
            f"{opening} {pick(fabrics)} {category}",
            f"{opening} {pick(colors)} {pick(fabrics)} {category}",
            f"{opening} {category} under {pick(prices)} dollars",
            f"{opening} {pick(colors)} {category} under {pick(prices)} dollars",
            f"{category} between {pick(prices)} and {pick(prices)} dollars",
            f"{opening} {category} in size {pick(_SIZES)}",
            f"{opening} {category} over {pick(prices)} dollars",
        ]
    for _ in range(150):
        ordinal, size = pick(_ORDINALS), pick(_SIZES + tuple(shoe_sizes))
        sentences += [
            f"in size {size}",
            f"in {pick(colors)}",
            f"in {pick(fabrics)}",
            f"under {pick(prices)} dollars",
            f"tell me about the {ordinal} one",
            f"how much is the {ordinal} one",
            f"is the {ordinal} one available in {size}",
            f"do you have it in {size}",
            f"add the {ordinal} one",
            f"add the {ordinal} one to my cart",
            f"add {pick(('two', 'three', 'four'))} of the {ordinal} one",
            f"i'll take the {ordinal} one in {size}",
            f"show me {pick(vocabulary.weaves or ('silk',))} {pick(categories)}",
        ]
    for kind in vocabulary.kinds:
        sentences.append(f"{pick(_SEARCH_OPENINGS)} {kind}")
    for name in vocabulary.product_names:
        sentences += [f"show me the {name}", f"add the {name} to my cart"]
    return [spoken(sentence) for sentence in sentences if spoken(sentence)]


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
    text = "\n".join(corpus + background * BACKGROUND_WEIGHT)
    version = hashlib.sha256(f"{TEMPLATE_VERSION}\n{text}".encode()).hexdigest()[:16]
    lm_path = directory / f"boutique-{version}.lm"
    dict_path = directory / f"boutique-{version}.dict"
    if lm_path.exists() and dict_path.exists():
        return ModelFiles(version, str(lm_path), str(dict_path))

    directory.mkdir(parents=True, exist_ok=True)
    words = {word for sentence in corpus for word in sentence.split()} | set(background)
    dictionary, _missing = _dictionary(words)
    model = ArpaBoLM(text=text, add_start=True)
    model.compute()
    # Write to temporary names first: other processes may load these paths.
    temporary_lm = lm_path.with_suffix(".lm.tmp")
    temporary_dict = dict_path.with_suffix(".dict.tmp")
    model.write_file(str(temporary_lm))
    temporary_dict.write_text(dictionary, encoding="utf-8")
    temporary_dict.replace(dict_path)
    temporary_lm.replace(lm_path)
    return ModelFiles(version, str(lm_path), str(dict_path))
