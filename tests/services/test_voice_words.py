"""words_to_act_on: which recognised words the assistant may act on."""

from pravis_api.services.speech_worker import Word
from pravis_api.services.voice import words_to_act_on


def boutique(*texts: str, confidence: float = 0.9) -> list[Word]:
    return [Word(text, confidence, True) for text in texts]


def other(*texts: str, confidence: float = 0.9) -> list[Word]:
    return [Word(text, confidence, False) for text in texts]


def test_words_all_boutique_kept() -> None:
    words = boutique("show", "me", "red", "dresses")

    assert words_to_act_on(words, 0.0, 0.25) == "show me red dresses"


def test_words_mostly_other_speech_dropped() -> None:
    # "go forward ten meters" as the boutique model heard it: one word of
    # the boutique's own among three common words.
    words = [*other("go", "forward"), *boutique("ten"), *other("meters")]

    assert words_to_act_on(words, 0.0, 0.25) == ""


def test_words_unknown_share_at_limit_kept() -> None:
    words = [*boutique("show", "me", "red"), *other("umbrellas")]

    assert words_to_act_on(words, 0.0, 0.25) == "show me red umbrellas"


def test_words_unknown_share_over_limit_dropped() -> None:
    words = [*boutique("show", "me", "red"), *other("umbrellas", "today")]

    assert words_to_act_on(words, 0.0, 0.25) == ""


def test_words_unsure_left_out() -> None:
    words = [
        *boutique("open", "my"),
        Word("cart", 0.8, True),
        Word("gold", 0.05, True),
    ]

    assert words_to_act_on(words, 0.1, 0.25) == "open my cart"


def test_words_unsure_other_words_not_counted() -> None:
    # The unsure common words are left out before the share is taken.
    words = [*boutique("open", "my", "cart"), *other("uh", "the", confidence=0.01)]

    assert words_to_act_on(words, 0.1, 0.25) == "open my cart"


def test_words_share_check_off_at_one() -> None:
    words = other("go", "forward", "ten", "meters")

    assert words_to_act_on(words, 0.0, 1.0) == "go forward ten meters"


def test_words_general_recogniser_kept() -> None:
    # Cloud and dictation recognisers do not mark words as boutique or not.
    words = [Word("go", 0.9), Word("forward", 0.9), Word("ten", 0.9)]

    assert words_to_act_on(words, 0.0, 0.25) == "go forward ten"


def test_words_none_heard() -> None:
    assert words_to_act_on([], 0.0, 0.25) == ""
    assert words_to_act_on(boutique("cart", confidence=0.05), 0.1, 0.25) == ""
