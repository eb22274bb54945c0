"""Acme, a fake platform added in the tests alone by following docs/adding-a-platform.md.

platform.py is the platform module a contributor would write under socialshop/platforms/; server.py
is its local stand-in API; models.py holds the queue of its new capability (product updates).
"""
