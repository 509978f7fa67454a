"""Language for the agents: `understand` operator text, `generate` replies in an agent's voice,
and `catalog` for the agents' own messages in several languages (gettext).

Importing this package is free; import the module you need.
"""
