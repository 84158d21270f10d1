"""Kaohe's business: the scheme, the cycle's aggregates and events, scoring and grading.

Imports only the standard library and ``eventsourcing``.
"""
