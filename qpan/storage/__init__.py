"""The database: ORM models, engine/session setup, migrations, full-text search, queries."""
