"""Speech-to-text, reply and text-to-speech providers, one interface per stage.

`base` defines the interfaces and errors; `local` wraps the embedded engines,
`azure_speech` and `openai_compatible` call cloud APIs, and `registry` builds
the providers that the settings choose. This package imports nothing from
its modules here, so `services.voice` can import `base` without a cycle.
"""
