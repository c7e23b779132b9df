"""The boutique language model: its corpus, its files and their rebuilds."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from pravis_api.services.assistant.lexicon import (
    CATEGORY_WORDS,
    COLOR_WORDS,
    FABRIC_WORDS,
)
from pravis_api.services.demo_catalogue import demo_products
from pravis_api.services.speech.language_model import (
    CatalogueVocabulary,
    ModelFiles,
    background_words,
    build_corpus,
    build_model,
    read_words,
    spoken,
    vocabulary_of,
)
from tests.conftest import DATA

SPOKEN_SET = json.loads((DATA / "spoken" / "manifest.json").read_text())
# The model is built from the seed-0 corpus, but every seed samples the same
# phrase tables, so a command in any seed's corpus is wording the tables
# contain. No command was in the corpora of seeds 0 to 299 when the spoken
# set was written. Building 30 corpora took about 2 s on a 2-core machine.
SPOKEN_SET_SEEDS = range(30)


@pytest.fixture(scope="module")
def vocabulary() -> CatalogueVocabulary:
    return vocabulary_of(demo_products())


@pytest.fixture(scope="module")
def corpus(vocabulary: CatalogueVocabulary) -> list[str]:
    return build_corpus(vocabulary)


@pytest.fixture(scope="module")
def seed_corpora(vocabulary: CatalogueVocabulary) -> dict[int, set[str]]:
    """The sentences of the corpus built with each of SPOKEN_SET_SEEDS."""
    return {seed: set(build_corpus(vocabulary, seed=seed)) for seed in SPOKEN_SET_SEEDS}


@pytest.fixture(scope="module")
def built(
    vocabulary: CatalogueVocabulary, tmp_path_factory: pytest.TempPathFactory
) -> ModelFiles:
    """The demo catalogue's model, built once for the module (about 2 s)."""
    return build_model(vocabulary, tmp_path_factory.mktemp("model"))


def corpus_words(corpus: list[str]) -> set[str]:
    return {word for sentence in corpus for word in sentence.split()}


def test_vocabulary_of_demo_catalogue(vocabulary: CatalogueVocabulary) -> None:
    assert len(vocabulary.product_names) > 300
    assert "banarasi" in vocabulary.weaves
    assert "pashmina" in vocabulary.fabrics
    assert "emerald" in vocabulary.colors
    for values in (vocabulary.product_names, vocabulary.colors, vocabulary.fabrics):
        assert list(values) == sorted(set(values))
        assert all(value == spoken(value) for value in values)


def test_corpus_covers_catalogue_words(
    vocabulary: CatalogueVocabulary, corpus: list[str]
) -> None:
    words = corpus_words(corpus)
    catalogue_words = {
        word
        for values in (
            vocabulary.product_names,
            vocabulary.kinds,
            vocabulary.weaves,
            vocabulary.colors,
            vocabulary.fabrics,
        )
        for value in values
        for word in value.split()
    }
    assert catalogue_words - words == set()
    lexicon_words = {
        word
        for table in (CATEGORY_WORDS, COLOR_WORDS, FABRIC_WORDS)
        for phrase in table
        for word in spoken(phrase).split()
    }
    assert lexicon_words - words == set()


def test_corpus_names_every_product(
    vocabulary: CatalogueVocabulary, corpus: list[str]
) -> None:
    text = "\n".join(corpus)
    missing = [name for name in vocabulary.product_names if f"the {name}" not in text]
    assert missing == []


def test_no_spoken_command_in_corpora(
    seed_corpora: dict[int, set[str]],
) -> None:
    verbatim = [
        (seed, entry["file"], entry["text"])
        for seed, sentences in seed_corpora.items()
        for entry in SPOKEN_SET
        if spoken(entry["text"]) in sentences
    ]
    assert verbatim == []


def test_corpus_is_lower_case_words(corpus: list[str]) -> None:
    assert all(sentence == spoken(sentence) and sentence for sentence in corpus)


def test_corpus_same_for_same_vocabulary(
    vocabulary: CatalogueVocabulary, corpus: list[str]
) -> None:
    assert build_corpus(vocabulary) == corpus


def test_build_is_deterministic(
    vocabulary: CatalogueVocabulary, built: ModelFiles, tmp_path: Path
) -> None:
    again = build_model(vocabulary, tmp_path)

    assert again.version == built.version
    for first, second in (
        (built.lm_path, again.lm_path),
        (built.dict_path, again.dict_path),
        (built.words_path, again.words_path),
    ):
        assert Path(first).name == Path(second).name
        assert Path(first).read_bytes() == Path(second).read_bytes()


def test_build_reuses_existing_files(
    vocabulary: CatalogueVocabulary, built: ModelFiles
) -> None:
    paths = [Path(built.lm_path), Path(built.dict_path), Path(built.words_path)]
    before = [path.stat().st_mtime_ns for path in paths]

    again = build_model(vocabulary, Path(built.lm_path).parent)

    assert again == built
    assert [path.stat().st_mtime_ns for path in paths] == before
    assert sorted(path.name for path in paths[0].parent.iterdir()) == sorted(
        path.name for path in paths
    )


def test_words_file_lists_corpus_words(built: ModelFiles, corpus: list[str]) -> None:
    listed = Path(built.words_path).read_text(encoding="utf-8").splitlines()

    assert listed == sorted(corpus_words(corpus))
    assert read_words(built) == frozenset(listed)
    for word in ("kurtas", "dupattas", "banarasi", "dresses", "cart", "returns"):
        assert word in listed
    # Background words that no boutique request uses stay out of it.
    background = set(background_words())
    for word in ("forward", "clubs", "queen"):
        assert word in background
        assert word not in listed


def test_dictionary_has_corpus_and_background_words(built: ModelFiles) -> None:
    entries = Path(built.dict_path).read_text(encoding="utf-8").splitlines()
    words = {entry.split()[0].split("(", 1)[0] for entry in entries}

    assert read_words(built) - words == set()
    assert {"forward", "clubs"} <= words
    # Every entry is a word and at least one ARPAbet phone.
    assert all(len(entry.split()) >= 2 for entry in entries)


def test_new_product_name_enters_corpus(
    vocabulary: CatalogueVocabulary, corpus: list[str]
) -> None:
    named = replace(
        vocabulary, product_names=(*vocabulary.product_names, "zardozi kaftan")
    )

    words = corpus_words(build_corpus(named))

    assert {"zardozi", "kaftan"} <= words
    assert "zardozi" not in corpus_words(corpus)
