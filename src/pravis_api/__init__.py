"""Pravis Boutique API: the web shop backend and the Ask Pravi voice assistant."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pravis-api")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
