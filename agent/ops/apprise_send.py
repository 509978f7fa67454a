"""Send one notice through apprise without blocking the event loop, and say why it failed.

apprise's `async_notify` runs each service's blocking HTTP call in the loop's thread pool, so
the kernel goes on while a slow webhook answers. apprise reports a failure as a result, not an
exception; the reason (an HTTP status, a refused connection) is in the result's log entries,
and the newest warning or error among them is what the outbox keeps as `last_error`.
"""

from __future__ import annotations

import logging

import apprise

from agent.ops.notify_routes import masked_url

#: Seconds one delivery may take before it counts as failed (and is tried again later).
SEND_TIMEOUT_S = 15.0

_TYPES = {
    "info": apprise.NotifyType.INFO,
    "success": apprise.NotifyType.SUCCESS,
    "warning": apprise.NotifyType.WARNING,
    "failure": apprise.NotifyType.FAILURE,
}


def understood(url: str) -> bool:
    """Whether apprise knows how to send to `url` (a known scheme, well formed)."""
    return bool(apprise.Apprise().add(url))


async def deliver(url: str, title: str, body: str, notify_type: str = "info") -> str | None:
    """Send; None when it was delivered, else one line saying why not (never the URL whole)."""
    sender = apprise.Apprise()
    if not sender.add(url):
        return f"apprise does not understand the URL {masked_url(url)}"
    try:
        result = await sender.async_notify(
            body=body or title,
            title=title,
            notify_type=_TYPES.get(notify_type, apprise.NotifyType.INFO),
            timeout=SEND_TIMEOUT_S,
            log_level=logging.WARNING,
        )
    except Exception as exc:  # a plugin bug must not end the notifier
        return f"{type(exc).__name__}: {exc}"
    if result:
        return None
    reasons = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
    reason = reasons[-1] if reasons else f"apprise reported {result.status.name.lower()}"
    return " ".join(reason.split())[:300]
