"""The flask-smorest ``Api`` extension, documenting errors as ``application/problem+json``."""

import http

import flask_smorest
from flask_smorest.utils import prepare_response

from api.problems import PROBLEM_MEDIA_TYPE
from api.responses import register_header_components
from schemas.problems import Problem


class Api(flask_smorest.Api):
    """The ``Api`` extension with problem+json error documentation."""

    ERROR_SCHEMA = Problem

    def _register_error_handlers(self) -> None:
        """Error handlers are registered by ``api/errors.py``, not by flask-smorest."""

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            if status < 400:
                continue
            response = {"description": status.phrase, "schema": self.ERROR_SCHEMA}
            prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)

    def _register_pagination_header(self) -> None:
        """Lists page with cursors in the body (``api/pagination.py``), not with
        flask-smorest's ``X-Pagination`` header: its schema would sit unused in the spec."""

    def _register_etag_headers(self) -> None:
        """``If-Match`` is optional here (without it, the last write wins); the response headers
        (``ETag``, ``Location``, ``Link``) are the components of ``api/responses.py``."""
        self.spec.components.parameter(
            "IF_MATCH",
            "header",
            {
                "name": "If-Match",
                "required": False,
                "description": "The `ETag` you read; the write is refused with 412 if it changed.",
                "schema": {"type": "string"},
            },
            lazy=True,
        )
        register_header_components(self.spec)
