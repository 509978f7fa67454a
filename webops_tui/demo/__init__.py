"""The demo world: real services on 127.0.0.1 with injected faults, and a team to handle them."""
