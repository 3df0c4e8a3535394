"""The central support server (FastAPI): the sync API for hall laptops, and later the trainee
web form and knowledge base as further routers. Headless: it never imports Textual.

Its tables live in their own SQLAlchemy MetaData (`central.models.central_metadata`), never in
the laptop's `SQLModel.metadata`, so the laptop's migrations and schema test never see them.
"""
