"""The REST API: FastAPI routes over the same kernel calls and JSON models as the CLI.

Only `webops serve` (and the tests) import this package, so FastAPI and uvicorn never slow down
the other commands.
"""
