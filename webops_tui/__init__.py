"""webops-tui: a terminal workbench for WebOps agents. This package is the composition root."""

__version__ = "0.1.0"
