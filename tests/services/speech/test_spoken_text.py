import pytest

from pravis_api.services.speech.spoken_text import spoken_text


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("It costs $49.99.", "It costs forty nine dollars and ninety nine cents."),
        ("Only $1.", "Only one dollar."),
        ("Now $100.00 each", "Now one hundred dollars each"),
        ("$1,250", "one thousand two hundred and fifty dollars"),
        ("$20.01", "twenty dollars and one cent"),
        ("₹1500", "one thousand five hundred rupees"),
        ("€20", "twenty euros"),
        ("$0.01", "one cent"),
        ("$0.50", "fifty cents"),
        ("£3.50", "three pounds and fifty pence"),
        ("£1.01", "one pound and one penny"),
    ],
)
def test_spoken_text_prices(text: str, spoken: str) -> None:
    assert spoken_text(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("in size XL", "in size extra large"),
        ("size XXS", "size double extra small"),
        (
            "It is in stock in sizes S, M and L.",
            "It is in stock in sizes small, medium and large.",
        ),
        (
            "Sizes XS or XXL are left.",
            "Sizes extra small or double extra large are left.",
        ),
        ("It is in stock in S and M.", "It is in stock in small and medium."),
        ("It comes in XS, S and L.", "It comes in extra small, small and large."),
        ("in size 8.5", "in size eight point five"),
        ("It is one size and in stock.", "It is one size and in stock."),
        ("One Size", "one size"),
    ],
)
def test_spoken_text_sizes(text: str, spoken: str) -> None:
    assert spoken_text(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("Add 2 to your cart.", "Add two to your cart."),
        ("the 1st and the 22nd", "the first and the twenty second"),
        ("I found 12 red dresses.", "I found twelve red dresses."),
        (
            "Rated 4.5 by 38 shoppers.",
            "Rated four point five by thirty eight shoppers.",
        ),
        ("Returns within 30 days.", "Returns within thirty days."),
    ],
)
def test_spoken_text_quantities(text: str, spoken: str) -> None:
    assert spoken_text(text) == spoken


@pytest.mark.parametrize(
    "text",
    [
        "Made in India, in Sage and Maroon.",
        "Opening your cart.",
        "M&S",
        "Sorry, I didn't understand that.",
    ],
)
def test_spoken_text_leaves_other_words(text: str) -> None:
    assert spoken_text(text) == text


def test_spoken_text_reply_has_no_digits_or_labels() -> None:
    reply = (
        "I found 3 red dresses under $100.00. The top 2 are the Ruby Wrap Dress "
        "at $89.50 in sizes S and M, and the Poppy Midi at $64.00 in L."
    )

    spoken = spoken_text(reply)

    assert not any(character.isdigit() for character in spoken)
    assert "$" not in spoken
    for label in (" S ", " M ", " L."):
        assert label not in spoken
    assert "eighty nine dollars and fifty cents" in spoken
    assert "in sizes small and medium" in spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        (
            "Order 12345678901234567 ships today.",
            "Order one two three four five six seven eight nine zero one two three"
            " four five six seven ships today.",
        ),
        (
            "$1234567890123456.50",
            "one two three four five six seven eight nine zero one two three four"
            " five six dollars and fifty cents",
        ),
        (
            "the 12345678901234567th",
            "the one two three four five six seven eight nine zero one two three"
            " four five six seventh",
        ),
        (
            "the 12345678901234511th",
            "the one two three four five six seven eight nine zero one two three"
            " four five eleventh",
        ),
        (
            "999999999999999",
            "nine hundred and ninety nine trillion nine hundred and ninety nine"
            " billion nine hundred and ninety nine million nine hundred and"
            " ninety nine thousand nine hundred and ninety nine",
        ),
        ("0000000000000000007", "seven"),
        ("$0000000000000000001", "one dollar"),
    ],
)
def test_spoken_text_long_numbers(text: str, spoken: str) -> None:
    assert spoken_text(text) == spoken


@pytest.mark.parametrize(
    "text",
    [
        "9" * 320,
        "$" + "9" * 400,
        "€" + "9" * 400 + ".99",
        "the " + "1" * 400 + "th",
        "9" * 400 + ".5",
    ],
)
def test_spoken_text_past_num2words_range(text: str) -> None:
    spoken = spoken_text(text)

    assert not any(character.isdigit() for character in spoken)
    # Spelled digit by digit, one word a digit.
    assert len(spoken.split()) >= 320


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("1." + "9" * 40, "one point" + " nine" * 40),
        (
            "Rated 4.123456789012345678.",
            "Rated four point one two three four five"
            " six seven eight nine zero one two three four five six seven eight.",
        ),
        (
            "555093606.540597",
            "five hundred and fifty five million ninety three"
            " thousand six hundred and six point five four zero five nine seven",
        ),
    ],
)
def test_spoken_text_keeps_every_fraction_digit(text: str, spoken: str) -> None:
    assert spoken_text(text) == spoken
