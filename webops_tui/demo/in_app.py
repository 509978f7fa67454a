"""The demo world inside the workbench: `webops demo`, or "Start or stop the demo world".

The same `run_demo` as `webops demo --headless`, run as a worker of the screen that shows it,
with its narration going to the activity log. Stopping is cooperative (the runner's `stop`
event): the world's services are shut down by the runner's own `finally`, and the screen waits
for that before it goes away, so quitting never leaves a service on a port.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from textual.widget import Widget
from textual.worker import Worker, WorkerError

from agent.core.kernel import Kernel
from webops_tui.demo.options import DemoOptions


class InAppDemo:
    """Starts the demo world once, and stops it on request or when its screen goes away."""

    def __init__(self, host: Widget, db_name: str, say: Callable[[str], None]) -> None:
        self._host = host
        self._db_name = db_name
        self._say = say
        self._stop = asyncio.Event()
        self._worker: Worker[None] | None = None
        #: The options of the demo started (None: not started in this session).
        self.options: DemoOptions | None = None

    def start(self, kernel: Kernel, options: DemoOptions) -> None:
        """Run the world (its team, targets, runbooks and faults) on `kernel`, in a worker."""
        from webops_tui.demo.runner import run_demo

        self.options = options
        self._stop = asyncio.Event()
        kernel.config = kernel.config.model_copy(update={"seed": options.seed})
        kernel.notifications.add_for_this_run(list(options.notify))
        world = options.world()
        self._host.app.sub_title = f"demo world · {self._db_name}"

        async def run() -> None:
            try:
                summary = await run_demo(
                    kernel,
                    world,
                    seed=options.seed,
                    duration_s=options.duration_s,
                    approve=options.approve,
                    stop=self._stop,
                    say=self._say,
                )
                self._host.notify(
                    f"demo finished: {summary.incidents['resolved']} of "
                    f"{summary.incidents['opened']} incidents resolved"
                )
            finally:
                world.stop()

        self._worker = self._host.run_worker(run(), group="demo", exit_on_error=False)

    def stop(self) -> None:
        """Ask the runner to finish (it stops the world's services on its way out)."""
        self._stop.set()

    async def close(self) -> None:
        """Stop, and wait until the world's services are down."""
        self.stop()
        if self._worker is not None:
            with contextlib.suppress(WorkerError):  # failed or cancelled: nothing left to wait for
                await self._worker.wait()
