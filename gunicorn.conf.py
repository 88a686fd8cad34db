"""gunicorn reads this file by default when started from the project folder."""

from api.gunicorn_config import *  # noqa: F403
