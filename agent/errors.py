"""The kernel's errors, as the layers above the kernel see them.

The whole error tree is defined once, in `storage.errors` (storage is the lowest layer, so
every layer may import it and storage can raise user-facing errors without importing the
kernel). This module re-exports it unchanged: widgets and webops_tui must never import storage,
so `agent.errors` is where they (and the kernel's own modules) get `WebopsError` and every
subclass, storage's included. Add a new error to `storage.errors` (and its `__all__`); never
define one here.
"""

from __future__ import annotations

# The whole tree, named by `storage.errors.__all__`: a new error needs no second list here.
from storage.errors import *  # noqa: F403
from storage.errors import __all__ as __all__
