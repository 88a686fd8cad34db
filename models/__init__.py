"""SQLAlchemy 2 typed models, one module per domain.

Importing this package registers every table on ``Base.metadata``, which Alembic and the
tests rely on.
"""

from models.auth import AuthSession, LoginThrottle
from models.base import Base
from models.users import User

__all__ = ["AuthSession", "Base", "LoginThrottle", "User"]
