"""Ask Pravi: understands a shopper's request and replies from the catalogue.

The package itself imports nothing, so the speech workers can read the
lexicon without loading the database layer; `Assistant` lives in
`responder`.
"""
