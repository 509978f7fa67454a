"""REST API tokens, one row per unique name; revoked tokens are kept so the log stays readable."""

from __future__ import annotations

from sqlmodel import col, select, update

from storage.repositories.named import NamedRowRepository
from storage.tables import ApiTokenRow


class TokenRepository(NamedRowRepository[ApiTokenRow]):
    model = ApiTokenRow
    noun = "token"

    async def by_prefix(self, prefix: str) -> ApiTokenRow | None:
        async with self._db.session() as session:
            query = select(ApiTokenRow).where(col(ApiTokenRow.prefix) == prefix)
            return (await session.exec(query)).first()

    async def revoke(self, name: str, at: float) -> bool:
        """Mark a live token revoked; False when there is no live token by that name."""
        async with self._db.session(write=True) as session:
            result = await session.exec(
                update(ApiTokenRow)
                .where(col(ApiTokenRow.name) == name, col(ApiTokenRow.revoked_at).is_(None))
                .values(revoked_at=at)
            )
            return bool(result.rowcount)

    async def touch(self, token_id: int, at: float) -> None:
        async with self._db.session(write=True) as session:
            await session.exec(
                update(ApiTokenRow).where(col(ApiTokenRow.id) == token_id).values(last_used_at=at)
            )
