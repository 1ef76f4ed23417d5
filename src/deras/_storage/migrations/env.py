"""Alembic environment: runs on the connection handed over by ``upgrade_to_head``.

Without one (alembic used directly during development, see ``__init__``), it connects to the
``sqlalchemy.url`` option with the store's own engine settings.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from deras._storage.engine import create_engine, writer
from deras._storage.schema import VERSION_TABLE, metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        # SQLite cannot ALTER most things: later revisions use batch operations (copy-and-move).
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    config = context.config
    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=metadata,
            version_table=VERSION_TABLE,
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)  # inside the caller's transaction: alembic commits nothing itself
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set the sqlalchemy.url option or pass a connection in config.attributes")
    engine = create_engine(url)
    try:
        with writer(engine).begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


_main()
