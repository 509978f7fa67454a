"""`webops export incidents [--anonymize]`: every incident, whole (checks, remedies with credit,
timeline), as one JSON document to share: with `--anonymize`, host names, IP addresses, e-mail
addresses, tokens and user names become stable pseudonyms (k8sgpt's `--anonymize`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from webops_tui.cli.apply import export_config
from webops_tui.cli.output import emit_json
from webops_tui.cli.runtime import with_kernel

if TYPE_CHECKING:
    from agent.core.kernel import Kernel

app = typer.Typer(help="Export records as JSON to share or archive.", no_args_is_help=True)


@app.command("incidents")
def incidents(
    ctx: typer.Context,
    anonymize: Annotated[
        bool,
        typer.Option(
            "--anonymize",
            help="Replace host names, IPs, e-mail addresses, tokens and user names with stable "
            "pseudonyms (host-1, ip-1, email-1, token-1, user-1).",
        ),
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=100_000, help="At most this many.")
    ] = 1000,
) -> None:
    """All incidents, newest first, each whole (as `webops incident show --json`), as one JSON
    list on stdout.

    Example: webops export incidents --anonymize > incidents.json
    """

    async def gather(kernel: Kernel) -> tuple[list[dict[str, Any]], list[str]]:
        found = await kernel.incidents(None, limit, open_only=False)
        await kernel.ops.refresh()
        documents = []
        for brief in found:
            document = (await kernel.incident(brief.id)).model_dump(mode="json")
            target = kernel.ops.targets.get(brief.target)
            # where the target is: what a reader needs, and what --anonymize must hide
            document["address"] = target.address if target is not None else None
            documents.append(document)
        return documents, await kernel.agent_names()

    documents, agents = with_kernel(ctx, gather)
    if anonymize:
        import getpass

        from agent.social.anonymize import Anonymizer

        anonymizer = Anonymizer(users=[getpass.getuser()])
        anonymizer.keep_agents(agents)
        documents = anonymizer.documents(documents)
    emit_json(documents)


app.command("config")(export_config)  # the ops document lives with `apply`, which reads it
