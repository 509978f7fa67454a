"""The async agent kernel: no Textual, no typer, no SQL.

It reaches the database only through `storage` repositories and talks to shells through its
public methods and (later) typed events. Importing this package is free; import the module you
need (`agent.core.kernel`, `agent.mind.personality`, ...).
"""
