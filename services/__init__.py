"""Business rules: plain functions over a SQLAlchemy Session, one module per domain."""
