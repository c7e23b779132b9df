import pytest

from pravis_api.services.assistant import FALLBACK_REPLY, normalise, understand


@pytest.mark.parametrize(
    ("text", "page"),
    [
        ("go to my cart", "cart"),
        ("Open the shopping bag, please", "cart"),
        ("my cart", "cart"),
        ("take me to the home page", "home"),
        ("go home", "home"),
        ("show me the collection", "products"),
        ("open the catalogue", "products"),
        ("go to checkout", "checkout"),
        ("navigate to my account", "profile"),
        ("open my profile", "profile"),
    ],
)
def test_understand_navigate(text: str, page: str) -> None:
    result = understand(text)
    assert result.intent == "navigate"
    assert result.entities == {"page": page}
    assert result.action is not None
    assert result.action["type"] == "navigate"
    assert result.action["page"] == page
    assert result.action["path"] == ("/" if page == "home" else f"/{page}")


@pytest.mark.parametrize(
    "text", ["check out", "I want to pay now", "place my order", "checkout"]
)
def test_understand_checkout(text: str) -> None:
    result = understand(text)
    assert result.intent == "checkout"
    assert result.action == {"type": "checkout"}


@pytest.mark.parametrize("text", ["go back", "back", "previous page"])
def test_understand_back(text: str) -> None:
    result = understand(text)
    assert result.intent == "back"
    assert result.action == {"type": "back"}


@pytest.mark.parametrize(
    "text", ["hello", "Hi there!", "good morning Pravi", "namaste"]
)
def test_understand_greeting(text: str) -> None:
    result = understand(text)
    assert result.intent == "greeting"
    assert result.action is None


@pytest.mark.parametrize("text", ["help", "what can you do", "how does this work"])
def test_understand_help(text: str) -> None:
    result = understand(text)
    assert result.intent == "help"
    assert result.action is None


@pytest.mark.parametrize(
    "text",
    [
        "go forward ten meters",
        "ten of clubs",
        "four queen of clubs",
        "eight of spades four of clubs seven of hearts",
        "",
        "   ",
        "what is the weather",
    ],
)
def test_understand_fallback_has_no_action(text: str) -> None:
    result = understand(text)
    assert result.intent == "fallback"
    assert result.action is None
    assert result.reply == FALLBACK_REPLY
    assert result.understood is False


def test_normalise_strips_punctuation() -> None:
    assert normalise("  Go to MY cart!!  ") == "go to my cart"
