"""How shoppers phrase each kind of request, for the boutique language model.

Each table lists ways of saying one part of a request, with the words the
assistant's understanding step acts on (see assistant/understanding.py).
The corpus builder combines them with the catalogue's vocabulary; "{x}"
marks where a product, price, size or page goes.
"""

# Said before a request, or nothing.
LEAD_INS = (
    "", "", "", "", "", "please", "okay", "hey pravi", "pravi", "hi pravi", "so", "now",
    "and", "um", "hmm", "well", "alright",
)  # fmt: skip
# Said after a request, or nothing.
TAGS = (
    "", "", "", "", "", "please", "for me", "for me please", "thanks", "thank you",
    "today", "now", "right now", "as well", "too",
)  # fmt: skip

# Before a product description: "show me {red silk sarees}".
SEARCH_OPENINGS = (
    "", "show me", "show", "can you show me", "could you show me", "would you show me",
    "please show me", "find", "find me", "can you find me", "could you find me",
    "search for", "look for", "i want", "i want to see", "i'd like", "i would like",
    "i'd like to see", "i would love to see", "i'd love some", "i need",
    "i'm looking for", "i am looking for", "looking for", "i'm after", "i'm after some",
    "do you have", "do you have any", "do you sell", "do you carry", "do you stock",
    "have you got", "have you got any", "got any", "any", "some", "let me see",
    "let's see", "can i see", "could i see", "may i see", "i want to buy", "browse",
    "recommend", "recommend some", "suggest", "what", "what kind of", "which",
    "are there any", "is there a", "show me your", "show me all", "show me the",
    "i'd like to look at", "let me look at",
)  # fmt: skip
# Between an opening and the description.
DETERMINERS = ("", "", "", "some", "a", "any", "the", "a pair of", "nice", "new")
# After a description: "sarees {that are red}".
SEARCH_QUALIFIERS = (
    "", "", "", "", "in stock", "for a wedding", "for summer", "for winter", "for work",
    "for a party", "on sale", "that are on sale", "for women", "do you have",
    "you have",
)  # fmt: skip

# A price bound: "{under} fifty dollars".
AT_MOST = (
    "under", "below", "less than", "for less than", "for under", "cheaper than",
    "up to", "at most", "no more than", "not more than", "within", "with a budget of",
    "my budget is",
)  # fmt: skip
AT_LEAST = ("over", "above", "more than", "at least", "starting at")
AROUND = ("around", "about", "roughly", "approximately")
CURRENCY = ("dollars", "dollars", "dollars", "bucks", "")

SIZES = (
    "small", "medium", "large", "extra small", "extra large", "extra extra small",
    "extra extra large", "double extra large", "one size", "free size",
)  # fmt: skip
SIZE_LEADS = ("in size", "in", "in a", "in an", "size", "in a size", "in the size")

# Naming a product shown earlier: "{the second one}".
# Shoppers name the first few products far more often than the rest.
ORDINALS = (
    *("first",) * 4, *("second",) * 3, *("third",) * 2, "fourth", "fifth", "sixth",
    "seventh", "eighth", "ninth", "tenth", *("last",) * 2,
)  # fmt: skip
ITEM_NOUNS = ("one", "one", "one", "item", "product", "option")
PRONOUNS = ("it", "that", "this", "that one", "this one", "them", "these", "those")

# Questions about one product: "{tell me more about} the first one".
DETAILS = (
    "tell me about {x}", "tell me more about {x}", "more about {x}",
    "give me the details of {x}", "give me details on {x}", "details of {x}",
    "details on {x}", "the details of {x}", "describe {x}", "can you describe {x}",
    "what is {x} made of", "what's {x} made of", "what fabric is {x}",
    "what fabric is {x} made of", "more info on {x}", "more information about {x}",
    "information about {x}", "what about {x}", "i want to know more about {x}",
    "open {x}", "show me {x}", "let me see {x}", "what does {x} look like",
)  # fmt: skip
PRICE = (
    "how much is {x}", "how much does {x} cost", "how much for {x}",
    "what's the price of {x}", "what is the price of {x}", "price of {x}",
    "what does {x} cost", "how expensive is {x}", "what is {x} priced at",
    "what's {x} priced at", "how much would {x} be", "how much are {x}",
    "what do {x} cost",
)  # fmt: skip
AVAILABILITY = (
    "is {x} available", "is {x} available in {size}", "is {x} in stock",
    "is {x} in stock in {size}", "is {x} out of stock", "is {x} sold out",
    "do you have {x} in {size}", "do you have {x} in stock", "does {x} come in {size}",
    "can i get {x} in {size}", "have you got {x} in {size}", "any left of {x}",
    "are there any left", "how many are left", "is {x} still available",
    "are {x} available in {size}", "do {x} come in {size}",
)  # fmt: skip
ADD_TO_CART = (
    "add {x}", "add {x} to my cart", "add {x} to my bag", "add {x} to my basket",
    "add {x} to the cart", "put {x} in my cart", "put {x} in my bag",
    "put {x} in the basket", "place {x} in my cart", "i'll take {x}", "i will take {x}",
    "i'll take {x} in {size}", "buy {x}", "buy {x} in {size}", "order {x}",
    "purchase {x}", "get me {x}", "i want to buy {x}", "add {quantity} of {x}",
    "add {quantity} of {x} to my cart", "i'll take {quantity} of {x}",
    "buy {quantity} of {x}", "add {x} in {size} to my cart", "i want {x} in {size}",
)  # fmt: skip
QUANTITIES = ("two", "three", "four", "five")

CHECKOUT = (
    "check out", "checkout", "i want to check out", "let's check out",
    "i'm ready to check out", "pay", "pay now", "let's pay", "i want to pay",
    "i'd like to pay", "i'm ready to pay", "can i pay now", "place my order",
    "place the order", "complete my order", "complete my purchase",
    "complete the purchase", "buy it now", "buy them now", "buy everything now",
    "proceed to checkout", "take me to checkout", "i'm done shopping",
)  # fmt: skip
BACK = (
    "back", "go back", "bring me back", "previous page", "last page",
    "go back to the last page", "go back one page", "back to the previous page",
    "can we go back", "let's go back",
)  # fmt: skip
NAVIGATE_VERBS = (
    "go to", "take me to", "bring me to", "open", "show me", "show", "view", "see",
    "navigate to", "visit", "switch to", "go back to", "return to", "get back to",
    "can you open", "please open", "i want to see", "let me see", "jump to", "head to",
)  # fmt: skip
PAGE_DETERMINERS = ("the", "my", "", "the whole", "the entire", "the full")

GREETINGS = (
    "hi", "hello", "hey", "hiya", "hello there", "hey there", "good morning",
    "good afternoon", "good evening", "namaste", "hello pravi", "hi pravi", "hey pravi",
    "good morning pravi", "hello again", "hey hello",
)  # fmt: skip
HELP = (
    "help", "help me", "i need help", "can you help me", "could you help me",
    "please help", "help please", "what can you do", "what can i say", "what can i ask",
    "what can i ask you", "how does this work", "how do i use this", "how do i use you",
    "what do you do", "what are you able to do",
)  # fmt: skip

# Store policy questions, by topic.
POLICY = (
    "what is your return policy", "what's your return policy",
    "what's the returns policy", "tell me about returns", "can i return it",
    "can i return this", "how do returns work", "how do i return something",
    "how do i return it", "can i send it back", "can i return it if it doesn't fit",
    "what if it doesn't fit", "can i get a refund", "do you give refunds",
    "how do refunds work", "how long do refunds take", "what is your refund policy",
    "can i exchange it", "can i exchange it for another size",
    "can i swap it for a different size", "what is your exchange policy",
    "do you do exchanges", "how long does shipping take", "how much is shipping",
    "how much does shipping cost", "is shipping free", "do you ship internationally",
    "do you ship overseas", "do you deliver abroad", "do you ship to india",
    "do you deliver", "do you deliver to my country", "how long does delivery take",
    "is delivery free", "when will my order arrive", "what does postage cost",
    "do you have a size guide", "is there a size guide", "can i see the size chart",
    "what size should i get", "what size should i buy", "how do your sizes run",
    "do your sizes run small", "do the sizes run large", "tell me about sizing",
    "what is your sizing like",
)  # fmt: skip
