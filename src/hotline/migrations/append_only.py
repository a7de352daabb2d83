"""The database's half of an append-only table (`db.append_only` is the ORM's): an UPDATE refused by a trigger,
on PostgreSQL through a plpgsql function raising `<table> is append-only`, on SQLite with RAISE(ABORT). For the
migrations from 0030 on; the earlier ones spell the same statements out and stay as they ran."""

from __future__ import annotations

from alembic import op


def _postgresql() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def refuse_updates(table: str, function: str, *, new_function: bool = True) -> None:
    """TABLE's rows can no longer be updated. FUNCTION: the PostgreSQL trigger function, created here unless
    NEW_FUNCTION is false (one an earlier migration made for a sibling table)."""
    if not _postgresql():
        op.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )
        return
    if new_function:
        op.execute(
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
    op.execute(f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()")


def allow_updates(table: str, function: str, *, drop_function: bool = True) -> None:
    """Undo `refuse_updates` (a downgrade): the trigger, and FUNCTION unless DROP_FUNCTION is false."""
    postgresql = _postgresql()
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update" + (f" ON {table}" if postgresql else ""))
    if postgresql and drop_function:
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
