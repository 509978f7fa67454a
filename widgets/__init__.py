"""Textual widgets, one panel per module with its own DEFAULT_CSS.

Widgets show what the kernel (`agent`) reports; they never reach the database themselves.
"""
