"""The feature store and the log store: one SQLAlchemy schema for MariaDB and SQLite."""
