"""The kernel's audit chain and API token methods (every token change is audited).

Chosen: a mixin of `Kernel` (agent/core/kernel.py), so the shells keep calling
`kernel.verify_audit(...)` while the façade stays small. Reads flush the write-behind first:
the newest entries wait there.
"""

from __future__ import annotations

from agent.core.audit_trail import AuditTrail
from agent.core.tokens import IssuedToken, Tokens, TokenView
from agent.core.write_behind import WriteBehind
from storage.repositories.audit import Anchor, AuditEntry, AuditVerification


class KernelAudit:
    audit_trail: AuditTrail
    tokens: Tokens
    write_behind: WriteBehind

    async def audit_entries(self, limit: int = 100, agent: str | None = None) -> list[AuditEntry]:
        await self.write_behind.flush()
        return await self.audit_trail.entries(limit, agent)

    async def verify_audit(self, anchor: Anchor | None = None) -> AuditVerification:
        """Walk the chain; with `anchor` (an earlier `audit_head`) also show that the entries up
        to it are all still there, unchanged."""
        await self.write_behind.flush()
        return await self.audit_trail.verify(anchor)

    async def audit_head(self) -> Anchor:
        """The newest entry's id and MAC, to keep elsewhere (`webops audit --anchor`)."""
        await self.write_behind.flush()
        return await self.audit_trail.head()

    async def create_token(self, name: str, role: str, by: str | None = None) -> IssuedToken:
        issued = await self.tokens.create(name, role)
        detail = {"token": name, "role": issued.role}
        await self.audit_trail.change(by, "token_created", detail)
        return issued

    async def revoke_token(self, name: str, by: str | None = None) -> TokenView:
        revoked = await self.tokens.revoke(name)
        await self.audit_trail.change(by, "token_revoked", {"token": name})
        return revoked
