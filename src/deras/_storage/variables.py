"""Variables: named text values kept in the metadata database, as Airflow keeps its Variables.

Users set them (``deras variables set``, ``dg.Variable.set``); DAG code and templates read them
(``dg.Variable.get``, ``{{ var.value.key }}``). Serialising JSON values is the caller's job:
the store keeps text.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import bindparam

from .._core.errors import DerasError
from .database import Database
from .schema import variables as table

_GET = sa.select(table.c.value).where(table.c.key == bindparam("key"))
_DELETE = sa.delete(table).where(table.c.key == bindparam("key"))
_LIST = sa.select(table).order_by(table.c.key)


def _upsert(insert: object) -> sa.Executable:
    stmt = insert(table).values(  # type: ignore[operator]
        key=bindparam("key"),
        value=bindparam("value"),
        description=bindparam("description"),
        update_time=bindparam("update_time"),
    )
    return stmt.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "value": stmt.excluded.value,
            "description": stmt.excluded.description,
            "update_time": stmt.excluded.update_time,
        },
    )


class VariableNotFoundError(DerasError, KeyError):
    """No variable has this key (a ``KeyError`` too, as code catching Airflow's expects)."""

    def __init__(self, key: str) -> None:
        super().__init__(
            f"variable {key!r} does not exist: set it with `deras variables set {key} VALUE` "
            "or give a default"
        )
        self.key = key

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class VariableRecord:
    key: str
    value: str
    description: str | None
    update_time: float


class VariableStore:
    """Get, set, delete and list variables; a set replaces the key's value and description."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, key: str) -> str:
        """The value of ``key``; ``VariableNotFoundError`` if there is none."""
        with self._db.read() as conn:
            value = conn.execute(_GET, {"key": key}).scalar()
        if value is None:
            raise VariableNotFoundError(key)
        return str(value)

    def set(self, key: str, value: str, *, now: float, description: str | None = None) -> None:
        if not isinstance(key, str) or not key:
            raise DerasError(f"a variable key is a non-empty string, not {key!r}")
        if not isinstance(value, str):
            raise DerasError(f"variable {key!r}: the store keeps text, not {type(value).__name__}")
        row = {"key": key, "value": value, "description": description, "update_time": now}
        self._db.transact(lambda tx: tx.execute(_upsert, row))

    def delete(self, key: str) -> bool:
        """Remove ``key``; whether it existed."""
        return self._db.transact(lambda tx: tx.rowcount(_DELETE, {"key": key})) > 0

    def list(self) -> list[VariableRecord]:
        """Every variable, by key."""
        with self._db.read() as conn:
            return [
                VariableRecord(row.key, row.value, row.description, row.update_time)
                for row in conn.execute(_LIST)
            ]
