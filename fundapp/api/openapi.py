"""``/api/v1/openapi.json``: the OpenAPI 3.1 document, built from the app's URL map.

Paths and methods come from the routes, roles from ``api_roles``, the ``Idempotency-Key``
header from ``idempotent``, bodies, query parameters and results from ``@operation``.
"""

from __future__ import annotations

import re
from typing import Any, get_type_hints

from flask import Flask, current_app, jsonify
from pydantic import TypeAdapter
from typing_extensions import TypedDict
from werkzeug.routing import Rule

from fundapp.api import bp
from fundapp.api.spec import JSON, MAX_ID, Operation, operation

PREFIX = "/api/v1"
REF = "#/components/schemas/{model}"

ERROR_TEXT = {
    400: "Malformed request: a JSON body nested deeper than JSON_MAX_DEPTH (32 levels)",
    401: "Missing, wrong, expired or revoked token",
    403: "The user's roles do not allow this",
    404: "No such object, or another cooperative's",
    409: "Conflicts with the current state or with an earlier request under this key",
    413: "Upload too large",
    422: "Invalid input or a rule of the fund refused it (the message names the rule)",
    429: "Too many failed logins: try later",
    503: "The database cannot be reached: nothing was recorded, try again (Retry-After)",
}


class ErrorDetail(TypedDict, total=False):
    code: str
    message: str
    fields: dict[str, str]
    rows: list[dict[str, Any]]


class ErrorBody(TypedDict):
    error: ErrorDetail


def _schema(shape: Any, defs: dict[str, Any]) -> dict[str, Any]:
    schema = TypeAdapter(shape).json_schema(ref_template=REF, mode="serialization")
    defs.update(schema.pop("$defs", {}))
    return schema


def _input_schema(shape: Any, defs: dict[str, Any]) -> dict[str, Any]:
    schema = TypeAdapter(shape).json_schema(ref_template=REF, mode="validation")
    for name, sub in schema.pop("$defs", {}).items():
        defs.setdefault(name, sub)
    return schema


def _path(rule: Rule) -> tuple[str, list[dict[str, Any]]]:
    params = []
    path = rule.rule
    for match in re.finditer(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule.rule):
        kind, name = match.group(1) or "default", match.group(2)
        schema: dict[str, Any] = (
            {"type": "integer", "minimum": 1, "maximum": MAX_ID}
            if kind == "int"
            else {"type": "string", "minLength": 1}
        )
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    path = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", path)
    return path.removeprefix(PREFIX) or "/", params


def _query_params(shape: Any, defs: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _input_schema(shape, defs)
    required = set(schema.get("required", ()))
    params = []
    for name in get_type_hints(shape):
        prop = dict(schema["properties"][name])
        prop.pop("title", None)
        param: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop,
        }
        if "description" in prop:
            param["description"] = prop.pop("description")
        params.append(param)
    return params


def _summary(view: Any, endpoint: str) -> tuple[str, str]:
    doc = (view.__doc__ or "").strip()
    if not doc:
        return endpoint.replace("_", " ").capitalize(), ""
    first, _sep, rest = doc.partition("\n\n")
    return " ".join(first.split()), " ".join(rest.split())


# Methods whose body is measured before any view (fundapp.register_input_guard).
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _responses(
    op: Operation, view: Any, has_path: bool, defs: dict[str, Any], method: str = "GET"
) -> dict:
    responses: dict[str, Any] = {}
    if op.returns is None:
        responses[str(op.status)] = {"description": "Done, nothing to return"}
    elif op.content == JSON:
        responses[str(op.status)] = {
            "description": "Done",
            "content": {JSON: {"schema": _schema(op.returns, defs)}},
        }
    else:
        responses[str(op.status)] = {
            "description": "The file",
            "content": {op.content: {"schema": {"type": "string", "format": "binary"}}},
        }
    if getattr(view, "idempotent", False):
        responses[str(op.status)]["headers"] = {
            "Idempotent-Replayed": {
                "description": "true when this is the stored answer to an earlier request",
                "schema": {"type": "string", "enum": ["true"]},
            }
        }
    codes = {422, 503, *op.errors}
    if hasattr(view, "allowed_roles"):
        codes |= {401, 403, 404}
    if has_path:
        codes.add(404)
    if getattr(view, "idempotent", False):
        codes.add(409)
    if op.form is not None:
        codes.add(413)
    if method in BODY_METHODS:
        codes.add(400)
    error = {"$ref": REF.format(model="ErrorBody")}
    for code in sorted(codes):
        responses[str(code)] = {
            "description": ERROR_TEXT[code],
            "content": {JSON: {"schema": error}},
        }
    return responses


def _operation(rule: Rule, method: str, view: Any, defs: dict[str, Any]) -> dict[str, Any]:
    op: Operation = getattr(view, "openapi", None) or Operation()
    endpoint = rule.endpoint.removeprefix("api.")
    summary, description = _summary(view, endpoint)
    _path_text, params = _path(rule)
    roles = list(getattr(view, "allowed_roles", ()))
    result: dict[str, Any] = {
        "operationId": endpoint,
        "summary": summary,
        "tags": [rule.rule.removeprefix(PREFIX).strip("/").split("/")[0].split(".")[0]],
    }
    if hasattr(view, "allowed_roles"):
        result["security"] = [{"bearer": []}]
        result["x-roles"] = roles
        who = ", ".join(roles) if roles else "any signed-in user"
        description = f"{description}\n\nRoles: {who}.".strip()
    if description:
        result["description"] = description
    if op.query is not None:
        params += _query_params(op.query, defs)
    if getattr(view, "idempotent", False):
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Repeat a request safely: the same key and body return the "
                "first answer and record nothing new",
                "schema": {"type": "string", "minLength": 1, "maxLength": 100},
            }
        )
    if params:
        result["parameters"] = params
    if op.body is not None:
        schema = _input_schema(op.body, defs)
        result["requestBody"] = {
            "required": bool(schema.get("required")),
            "content": {JSON: {"schema": schema}},
        }
    elif op.form is not None:
        result["requestBody"] = {
            "required": True,
            "content": {"multipart/form-data": {"schema": _input_schema(op.form, defs)}},
        }
    result["responses"] = _responses(op, view, bool(rule.arguments), defs, method)
    return result


def build(app: Flask) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    defs["ErrorBody"] = _schema(ErrorBody, defs)
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        view = app.view_functions[rule.endpoint]
        path, _params = _path(rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, method, view, defs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "fundapp API",
            "version": "1",
            "description": "The loan management system of a Cooperative Development Support "
            'Fund. Money is whole đồng (integers), rates are strings such as "7.2", dates '
            "are YYYY-MM-DD. Get a token with POST /tokens, then send "
            "`Authorization: Bearer <token>`.",
        },
        "servers": [{"url": PREFIX}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(defs.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@bp.route("/openapi.json", methods=["GET"])
@operation(returns=dict[str, Any])
def openapi_document() -> Any:
    """The OpenAPI 3.1 document of this API."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if "openapi" not in app.extensions:
        app.extensions["openapi"] = build(app)
    return jsonify(app.extensions["openapi"])
