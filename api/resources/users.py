"""Admin management of user accounts."""

import uuid
from typing import Any

from flask.views import MethodView

from api.auth import current_user
from api.blueprint import Blueprint
from api.etag import if_match_versions
from api.extensions import db
from api.pagination import paginate
from api.responses import created, with_etag
from models import User
from schemas.users import UserCreate, UserOut, UserPage, UserPatch, UserQuery
from services.users import (
    USER_SORT_KEYS,
    create_user,
    deactivate_user,
    delete_user,
    get_user,
    list_users,
    reactivate_user,
    update_user,
)

blp = Blueprint(
    "users", __name__, url_prefix="/api/v1/users", description="Staff accounts and API clients."
)


@blp.route("")
class Users(MethodView):
    @blp.auth("users:admin")
    @blp.arguments(UserQuery(), location="query", as_kwargs=True)
    @blp.page_response(UserPage())
    def get(self, **query: Any) -> tuple[dict[str, Any], dict[str, str]]:
        """List users

        Filter by role, active flag, `q` (e-mail or name) and `updated_since`.
        """
        return paginate(db.session, list_users, query, USER_SORT_KEYS, User.id)

    @blp.auth("users:admin")
    @blp.arguments(UserCreate())
    @blp.created_response(UserOut())
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any]) -> tuple[User, int, dict[str, str]]:
        """Create a user"""
        user = create_user(db.session, **body)
        return created(user, "users.UserById", user_id=user.id)


@blp.route("/<uuid:user_id>")
class UserById(MethodView):
    @blp.auth("users:admin")
    @blp.record_response(UserOut())
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, user_id: uuid.UUID) -> tuple[User, dict[str, str]]:
        """Get a user"""
        return with_etag(get_user(db.session, user_id))

    @blp.auth("users:admin")
    @blp.if_match
    @blp.arguments(UserPatch())
    @blp.record_response(UserOut())
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, body: dict[str, Any], user_id: uuid.UUID) -> tuple[User, dict[str, str]]:
        """Update a user's name, role, active flag or password

        Deactivating a user (`is_active: false`, as `POST /users/{user_id}/deactivate` does) or
        changing the password revokes the user's tokens.
        """
        user = update_user(
            db.session,
            actor=current_user(),
            user_id=user_id,
            changes=body,
            if_match=if_match_versions(),
        )
        return with_etag(user)

    @blp.auth("users:admin")
    @blp.if_match
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, user_id: uuid.UUID) -> None:
        """Delete a user

        The account and its logins are removed for good. An account that other records refer
        to answers 409: deactivate it instead (`POST /users/{user_id}/deactivate`), which
        keeps it readable. You cannot delete your own account or the last active admin.
        """
        delete_user(db.session, actor=current_user(), user_id=user_id, if_match=if_match_versions())


@blp.route("/<uuid:user_id>/deactivate")
class UserDeactivation(MethodView):
    @blp.auth("users:admin")
    @blp.if_match
    @blp.record_response(UserOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, user_id: uuid.UUID) -> tuple[User, dict[str, str]]:
        """Deactivate a user

        The account stays (with `is_active: false`) but can no longer log in, and its tokens
        stop working at once. 409 if it is already deactivated, if it is your own, or if it is
        the last active admin.
        """
        user = deactivate_user(
            db.session, actor=current_user(), user_id=user_id, if_match=if_match_versions()
        )
        return with_etag(user)


@blp.route("/<uuid:user_id>/reactivate")
class UserReactivation(MethodView):
    @blp.auth("users:admin")
    @blp.if_match
    @blp.record_response(UserOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, user_id: uuid.UUID) -> tuple[User, dict[str, str]]:
        """Reactivate a user

        The account may log in again (its former tokens stay revoked); 409 if it is active.
        """
        user = reactivate_user(
            db.session, actor=current_user(), user_id=user_id, if_match=if_match_versions()
        )
        return with_etag(user)
