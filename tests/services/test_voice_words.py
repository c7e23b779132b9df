"""words_to_act_on and choose_reading: which recognised words the assistant
may act on."""

from collections.abc import Sequence

from pravis_api.services.speech_worker import Transcription, Word
from pravis_api.services.voice import (
    choose_reading,
    transcript_and_words,
    words_to_act_on,
)


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


def transcription(best: Sequence[Word], *alternatives: Sequence[Word]) -> Transcription:
    return Transcription(
        transcript=" ".join(word.text for word in best),
        words=tuple(best),
        alternatives=tuple(tuple(alternative) for alternative in alternatives),
    )


def texts(words: Sequence[Word]) -> str:
    return " ".join(word.text for word in words)


def test_reading_fewer_other_words_chosen() -> None:
    result = transcription(
        [*boutique("show", "me"), *other("living"), *boutique("shirts")],
        [*boutique("show", "me"), *other("leaving"), *boutique("shirts")],
        boutique("show", "me", "linen", "shirts"),
    )

    assert texts(choose_reading(result, 0.0, 0.25)) == "show me linen shirts"


def test_reading_best_kept_on_tie() -> None:
    best = [*boutique("show", "me"), *other("living"), *boutique("shirts")]
    result = transcription(
        best, [*boutique("show", "me"), *other("leaving"), *boutique("shirts")]
    )

    assert choose_reading(result, 0.0, 0.25) == tuple(best)


def test_reading_other_speech_kept() -> None:
    # The best hypothesis is mostly common words: speech about something
    # else, even though an alternative is all boutique words.
    best = [*other("set", "an", "alarm"), *boutique("for", "seven")]
    result = transcription(best, boutique("silk", "an", "arm", "for", "seven"))

    assert choose_reading(result, 0.0, 0.25) == tuple(best)


def test_reading_best_without_request_kept() -> None:
    # Boutique words that make no request ("for seven") gain no action from
    # an alternative that would make one ("silk for seven").
    best = [*boutique("and", "for", "seven")]
    result = transcription(best, boutique("silk", "for", "seven"))

    assert choose_reading(result, 0.0, 0.25) == tuple(best)


def test_reading_alternative_without_request_skipped() -> None:
    best = [*boutique("show", "me"), *other("living"), *boutique("shirts")]
    result = transcription(best, boutique("show", "me", "the", "way"))

    assert choose_reading(result, 0.0, 0.25) == tuple(best)


def test_reading_without_alternatives_is_best() -> None:
    best = [Word("show", 0.9), Word("me", 0.9), Word("dresses", 0.9)]

    assert choose_reading(transcription(best), 0.0, 0.25) == tuple(best)


def test_transcript_of_chosen_reading() -> None:
    result = transcription(
        [*boutique("show", "me"), *other("living"), *boutique("shirts")],
        boutique("show", "me", "linen", "shirts"),
    )

    transcript, heard = transcript_and_words(result, 0.0, 0.25)

    assert transcript == "show me linen shirts"
    assert heard == "show me linen shirts"


def test_transcript_of_best_kept_verbatim() -> None:
    best = [Word("show", 0.9), Word("me", 0.9), Word("dresses", 0.9)]
    result = Transcription(transcript="Show me dresses.", words=tuple(best))

    transcript, heard = transcript_and_words(result, 0.0, 0.25)

    assert transcript == "Show me dresses."
    assert heard == "show me dresses"
