"""The demo's fault catalogue: each kind of fault, the one remedy that fixes it, how risky each
remedy is, and how each fault shows in a service's answer and health report.

Chosen: kept apart from the services that act it out (webops_tui/demo/world.py) so the table
the agents must learn, and are never told, reads in one place.
"""

from __future__ import annotations

from typing import Any, Literal

#: The values `RunbookSpec.risk` and `TargetSpec.criticality` take.
Risk = Literal["none", "low", "medium", "high", "critical"]
Criticality = Literal["low", "medium", "high", "critical"]

VERSION = "1.4.2"
#: fault kind -> the one remedy that fixes it (the agents do not know this table).
REMEDY = {
    "crash": "restart",
    "overload": "scale-up",
    "dependency_down": "failover-db",
    "bad_deploy": "rollback",
    "disk_full": "rotate-logs",
    "cache_thrash": "clear-cache",
    "stale_index": "reindex",
    "memory_leak": "restart",
    "cert_expiring": "renew-cert",
}
HTTP_FAULTS = tuple(k for k in REMEDY if k != "cert_expiring")
RISK: dict[str, Risk] = {
    "flush-dns": "low",
    "reindex": "medium",
    "restart": "medium",
    "clear-cache": "low",
    "scale-up": "medium",
    "rollback": "high",
    "failover-db": "high",
    "rotate-logs": "low",
    "renew-cert": "medium",
}
CRITICALITY: dict[str, Criticality] = {
    "shop": "high",
    "api": "high",
    "auth": "high",
    "search": "medium",
    "cdn": "medium",
}
#: What a healthy service reports about itself, and how each fault changes the report and the
#: answer: (status code, changes to the report, slow).
HEALTHY: dict[str, Any] = {
    "status": "UP",
    "version": VERSION,
    "load": 0.35,
    "disk_pct": 41,
    "mem_pct": 52,
    "cache": "ok",
    "index_age_s": 120,
    "checks": {"db": "up"},
}
UNAVAILABLE = {"status": "DOWN", "error": "service unavailable"}
INTERNAL = {"status": "DOWN", "error": "internal error"}
SYMPTOMS: dict[str, tuple[int, dict[str, Any], bool]] = {
    "overload": (503, {**UNAVAILABLE, "load": 0.97}, False),
    "dependency_down": (503, {**UNAVAILABLE, "checks": {"db": "down"}}, False),
    "bad_deploy": (500, {**INTERNAL, "version": "1.5.0-rc1"}, False),
    "disk_full": (500, {**INTERNAL, "disk_pct": 99}, False),
    "cache_thrash": (200, {"cache": "thrashing"}, True),
    "stale_index": (200, {"index_age_s": 86_400}, True),
    "memory_leak": (200, {"mem_pct": 97}, True),
}
#: What the targets tell agents about a healthy service's report (its context conditions).
CONTEXT = [
    f'json.version == "{VERSION}"',
    "json.load < 0.8",
    'json.checks.db == "up"',
    "json.disk_pct < 90",
    "json.mem_pct < 90",
    'json.cache == "ok"',
    "json.index_age_s < 3600",
]
