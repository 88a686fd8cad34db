"""Liveness and readiness probes for load balancers and orchestrators."""

from flask.views import MethodView

from api.blueprint import Blueprint
from api.extensions import db
from schemas.health import HealthOut
from services.health import check_database

blp = Blueprint("health", __name__, description="Probes for load balancers.")


@blp.route("/healthz")
class Liveness(MethodView):
    @blp.response(200, HealthOut())
    def get(self) -> dict[str, str]:
        """The process is up"""
        return {"status": "ok"}


@blp.route("/readyz")
class Readiness(MethodView):
    @blp.response(200, HealthOut())
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self) -> dict[str, str]:
        """The database answers"""
        check_database(db.session)
        return {"status": "ok", "database": "ok"}
