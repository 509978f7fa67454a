"""Regenerate the SVG screenshots in `screenshots/` from the real app (`make screenshots`).

The app runs headless on a fresh temporary database with a fixed team, so the pictures change
only when the UI does.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from agent.core.kernel import Kernel
from agent.ops.targets import runbook_spec, target_spec
from webops_tui.app import WebopsApp, make_app
from webops_tui.config import Settings
from webops_tui.demo.options import DemoOptions

TEAM = (("anna", "cautious"), ("ben", "bold"), ("cleo", "friendly"))
SIZES = ((80, 24), (120, 40))
DEMO_SECONDS = 6.0
#: The longest wait for the demo's first request for approval (seed 7 asks within seconds).
APPROVAL_WAIT_S = 60.0


async def capture(out_dir: Path) -> list[Path]:
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "webops.db"
        async with await Kernel.open(db_path) as kernel:
            for name, preset in TEAM:
                await kernel.create_agent(name, preset)
        for width, height in SIZES:
            app = make_app(Settings(db_path=db_path))
            async with app.run_test(size=(width, height)) as pilot:
                await pilot.pause()
                path = out_dir / f"workbench-{width}x{height}.svg"
                app.save_screenshot(path.name, str(out_dir))
                written.append(path)
        # The demo world after a few seconds: targets, incidents, and the activity log.
        demo_db = Path(tmp) / "demo.db"
        for width, height in SIZES:
            app = make_app(Settings(db_path=demo_db), demo=DemoOptions(seed=7, approve="all"))
            async with app.run_test(size=(width, height)) as pilot:
                await pilot.pause(DEMO_SECONDS)
                for tab in ("ops", "activity"):
                    await pilot.press(tab[0] if tab == "ops" else "l")
                    await pilot.pause(0.5)
                    path = out_dir / f"demo-{tab}-{width}x{height}.svg"
                    app.save_screenshot(path.name, str(out_dir))
                    written.append(path)
                if (width, height) == SIZES[-1]:  # Enter on the first target: its detail
                    await pilot.press("o")
                    await pilot.pause(0.3)
                    await pilot.press("enter")
                    await pilot.pause(1.0)
                    path = out_dir / f"demo-target-{width}x{height}.svg"
                    app.save_screenshot(path.name, str(out_dir))
                    written.append(path)
                    # s in the detail: silenced for 2h from the workbench, then the Ops row.
                    await pilot.press("s")
                    await pilot.pause(0.3)
                    await pilot.press("tab", *"db upgrade", "enter")
                    await pilot.pause(1.0)
                    written.append(_shot(app, out_dir, f"demo-silenced-{width}x{height}.svg"))
                    await pilot.press("escape")
                    await pilot.pause(1.0)
                    written.append(_shot(app, out_dir, f"demo-maintenance-{width}x{height}.svg"))
                    # An incident's detail with its a/r/o/n keys, and the note dialog over it.
                    await pilot.press("tab", "enter")
                    await pilot.pause(1.0)
                    written.append(_shot(app, out_dir, f"demo-incident-{width}x{height}.svg"))
                    await pilot.press("n")
                    await pilot.pause(0.3)
                    await pilot.press(*"paged the db team")
                    written.append(_shot(app, out_dir, f"demo-incident-note-{width}x{height}.svg"))
                    await pilot.press("escape", "escape")
        # A request waiting for a person: the queue's detail, then the confirmation, both with
        # the exact request that will run; and the key overlay over it all.
        asking_db = Path(tmp) / "asking.db"
        width, height = SIZES[-1]
        app = make_app(Settings(db_path=asking_db), demo=DemoOptions(seed=7, approve="human"))
        async with app.run_test(size=(width, height)) as pilot:
            for _ in range(int(APPROVAL_WAIT_S / 0.5)):
                await pilot.pause(0.5)
                if app.kernel is not None and await app.kernel.approvals():
                    break
            for key, name in (("p", "approval"), ("a", "approval-confirm")):
                await pilot.press(key)
                await pilot.pause(0.5)
                path = out_dir / f"demo-{name}-{width}x{height}.svg"
                app.save_screenshot(path.name, str(out_dir))
                written.append(path)
            await pilot.press("escape", "question_mark")
            await pilot.pause(0.5)
            path = out_dir / f"keys-{width}x{height}.svg"
            app.save_screenshot(path.name, str(out_dir))
            written.append(path)
        written += await _dry_run_approval(Path(tmp) / "dry.db", out_dir)
    return written


def _shot(app: WebopsApp, out_dir: Path, name: str) -> Path:
    app.save_screenshot(name, str(out_dir))
    return out_dir / name


async def _dry_run_approval(db_path: Path, out_dir: Path) -> list[Path]:
    """A risky runbook with a dry run, asked for: the approval's detail (Enter) shows what the
    dry run printed before anyone decides."""
    async with await Kernel.open(db_path) as kernel:
        await kernel.create_agent("anna", "cautious")
        await kernel.ops.add_target(
            target_spec(name="shop", kind="http", address="http://127.0.0.1:9/health")
        )
        await kernel.ops.add_runbook(
            runbook_spec(
                name="restart-shop",
                kind="command",
                argv=["kubectl", "rollout", "restart", "deploy/shop"],
                risk="high",
                verify_target="shop",
                dry_run={"argv": ["echo", "deployment.apps/shop restarted (server dry run)"]},
            )
        )
        await kernel.task("anna", "run restart-shop on shop")
    width, height = SIZES[-1]
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(width, height)) as pilot:
        await pilot.pause(0.5)
        await pilot.press("p")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.5)
        return [_shot(app, out_dir, f"approval-dry-run-{width}x{height}.svg")]


def main() -> None:
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("screenshots")
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(capture(out_dir)):
        print(path)


if __name__ == "__main__":
    main()
