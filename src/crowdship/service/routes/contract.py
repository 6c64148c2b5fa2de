"""The API's contract in the OpenAPI document: every status an operation answers, with the
exact body of each refusal.

What follows from an operation's shape is added to every operation here (``document``):
401 (with ``WWW-Authenticate``) where it needs a login, 403 where its dependency admits only
some roles, 404 where its path names something, 422 (``ValidationProblem``) where it takes
any input, 413 where it takes a body and 415 where that body is JSON, 400 everywhere (a
request the server cannot read) and 503 everywhere (the database out of reach, with
``Retry-After``). What depends on the rules behind it (409 for a state that refuses, 403
for a rule about who may, 423 for a locked order ...) each route declares with
``responses=refusals(...)``.

``allow_header`` answers 405 with every method the path has in ``Allow`` (Starlette's own
names only the first route that matched the path).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.params import Form as FormInfo
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.exceptions import HTTPException

from crowdship.service.deps import current_actor
from crowdship.service.errors import Problem, ValidationProblem

WHY = {
    400: "The request could not be read at all: a request line or headers over the server's "
    "limits (plain text), or a body that is not text, e.g. not UTF-8 (JSON).",
    401: "Not logged in, or the token is invalid or expired: log in at POST /auth/token.",
    403: "Your role or your part in this may not do this.",
    404: "Not found, or not yours (existence is not revealed).",
    409: "The thing is not in a state that allows this; `status` is its state now.",
    413: "The body is larger than CROWDSHIP_MAX_BODY_BYTES (refused unread).",
    415: "The body's Content-Type is not JSON (application/json).",
    422: "Bad input: `detail` names each field and its problem, `errors` lists them.",
    423: "The order is locked after too many wrong codes; the operator must review it.",
    429: "Too many attempts from this account or this client address: wait the seconds "
    "in `Retry-After`.",
    503: "The database is out of reach or locked for now (a restart, another writer): "
    "send the same request again after `Retry-After` seconds, with the same "
    "`Idempotency-Key` where the operation takes one.",
}
# Refusals of routes that do not declare them with ``refusals`` (yet): method and path.
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
VALIDATION_REF = {"$ref": "#/components/schemas/ValidationProblem"}


def refusals(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for the refusals a route's rules may answer, besides those that
    follow from its shape."""
    return {
        code: {"model": ValidationProblem if code == 422 else Problem, "description": WHY[code]}
        for code in codes
    }


def _calls(dependant: Dependant) -> list[Callable[..., Any]]:
    found = []
    for child in dependant.dependencies:
        if child.call is not None:
            found.append(child.call)
        found.extend(_calls(child))
    return found


def _implied(route: Any) -> set[int]:
    """The statuses that follow from the route's shape."""
    dependant = route.dependant
    calls = _calls(dependant)
    codes: set[int] = set()
    if current_actor in calls:
        codes.add(401)
    if any(getattr(call, "__qualname__", "").startswith("actor_with.") for call in calls):
        codes.add(403)
    if route.path_format.count("{"):
        codes.add(404)

    def params(d: Dependant) -> bool:
        return bool(d.path_params or d.query_params or d.header_params or d.body_params) or any(
            params(child) for child in d.dependencies
        )

    if params(dependant):
        codes.add(422)
    if route.body_field is not None:
        codes.add(413)
        if not isinstance(route.body_field.field_info, FormInfo):
            codes.add(415)  # a JSON body sent as something else
    # 400: the server's own answer (plain text) to a request line or headers over its
    # limits, for any operation; FastAPI's (JSON) to a body that is not even text.
    codes.add(400)
    # 503: every operation reads the database (a login checks its account).
    codes.add(503)
    return codes


def api_routes(app: FastAPI) -> list[Any]:
    """Every API route, with its full path (routers included with a prefix too)."""
    return [
        context
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
    ]


def _schema_of(model: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    return schema, schema.pop("$defs", {})


def document(app: FastAPI) -> None:
    """Make ``app.openapi()`` declare every refusal of every operation."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        for model in (Problem, ValidationProblem):
            schema, defs = _schema_of(model)
            schemas[model.__name__] = schema
            schemas.update(defs)
        for route in api_routes(app):
            if not route.include_in_schema:
                continue
            for method in route.methods:
                operation = spec["paths"].get(route.path_format, {}).get(method.lower())
                if operation is None:
                    continue
                answers = operation.setdefault("responses", {})
                declared = {int(c) for c in [*route.responses, *answers] if str(c).isdigit()}
                for code in sorted(_implied(route) | declared):
                    if code < 400:
                        continue
                    ref = VALIDATION_REF if code == 422 else PROBLEM_REF
                    answer: dict[str, Any] = {
                        "description": WHY.get(code, "Refused."),
                        "content": {"application/json": {"schema": ref}},
                    }
                    if code == 400:
                        answer["content"]["text/plain"] = {"schema": {"type": "string"}}
                    if code == 401:
                        answer["headers"] = {
                            "WWW-Authenticate": {
                                "description": "Bearer",
                                "schema": {"type": "string", "const": "Bearer"},
                            }
                        }
                    if code in (429, 503):
                        answer["headers"] = {
                            "Retry-After": {
                                "description": "seconds to wait before trying again",
                                "required": True,
                                "schema": {"type": "integer", "minimum": 1},
                            }
                        }
                    answers[str(code)] = answer
        for unused in ("HTTPValidationError", "ValidationError"):
            if unused in schemas and f"#/components/schemas/{unused}" not in json.dumps(spec):
                del schemas[unused]
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


async def allow_header(request: Request, error: Exception) -> JSONResponse:
    """405 with every method of every route on this path in ``Allow``."""
    methods: set[str] = set()
    for route in api_routes(request.app):
        if route.path_regex.match(request.url.path):
            methods |= set(route.methods)
    detail = error.detail if isinstance(error, HTTPException) else "Method Not Allowed"
    return JSONResponse(
        {"detail": detail},
        status_code=405,
        headers={"Allow": ", ".join(sorted(methods))} if methods else None,
    )
