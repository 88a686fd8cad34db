"""Unbound extensions: created here, bound to an app by ``create_app()``."""

from flask_cors import CORS
from flask_jwt_extended import JWTManager

from api.database import Database
from api.smorest import Api

api = Api()
jwt = JWTManager()
cors = CORS()
db = Database()
