"""Kaohe (考核): the party-building work assessment system. Composition root and CLI."""

__version__ = "0.1.0"
