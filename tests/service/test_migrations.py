"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL:
a column added to a model without a migration (or the reverse) fails here, not in
production."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import crowdship.service.models  # noqa: F401  (registers every table)
from crowdship.service.db import Base, migrate


def differences(url: str, metadata: sa.MetaData) -> list[object]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def test_the_migrated_schema_is_the_models_schema(database_url: str) -> None:
    migrate(database_url)
    assert differences(database_url, Base.metadata) == []


def test_the_comparison_sees_a_missing_migration(database_url: str) -> None:
    """The check itself: a model column no migration created is reported."""
    migrate(database_url)
    extended = sa.MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(extended)
    extended.tables["orders"].append_column(sa.Column("forgotten", sa.Integer()))
    found = differences(database_url, extended)
    assert any("forgotten" in str(d) for d in found), found
