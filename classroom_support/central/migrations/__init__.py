"""Alembic scripts for the central server's schema (`central_metadata`), kept apart from the
laptop's (`classroom_support/migrations/`): the two databases evolve separately. Applied by
`classroom_support.central.store.schema.upgrade_schema`; see there and docs/architecture.md."""
