"""The order service: FastAPI over SQLAlchemy, one package per domain.

Imports go one way: ``core`` <- ``service``. Each domain package has ``models.py`` (ORM),
``schemas.py`` (request and response bodies), ``repository.py`` (SQL), ``service.py`` (the
rules; never commits) and ``routes.py`` (thin; the request boundary commits).
"""
