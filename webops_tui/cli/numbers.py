"""The largest whole number a command takes: SQLite stores signed 64-bit integers, and a bigger
id or limit used to reach the driver and die there with an OverflowError (issue 18). Bounding
the option turns it into click's one-line usage error (exit 2) before anything is opened; below
too, since `--deny -9223372036854775809` overflowed the same way (found by the CLI fuzzer)."""

from __future__ import annotations

#: The largest integer SQLite can bind (a signed 64-bit value).
INTEGER_MAX = 2**63 - 1
#: The smallest (an option without a lower bound of its own takes anything down to this).
INTEGER_MIN = -(2**63)
