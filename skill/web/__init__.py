"""Web service: the skill over HTTP with Flask and flask-ask-sdk's SkillAdapter, verified by default.

Production: `gunicorn --workers 2 --bind 127.0.0.1:5000 'skill.web:create_app()'` behind a TLS proxy.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Collection
from typing import Any

from flask import Flask, Response, abort, jsonify, request
from werkzeug.exceptions import HTTPException

from skill.alexa.envelope import application_ids
from skill.alexa.serializer import MAX_DEPTH, InvalidEnvelope, too_deep
from skill.web.compat import import_skill_adapter, install

install()  # before anything imports flask_ask_sdk.skill_adapter (see compat)
log = logging.getLogger("backcoach.web")

MAX_BODY_BYTES = 128 * 1024
"""Alexa requests are a few KB; anything over this is refused with 413 before it is read."""


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() not in {"0", "false", "no", "off"}


def _skill_ids(value: str | None) -> set[str]:
    return {part.strip() for part in (value or "").split(",") if part.strip()}


def _application_id(envelope: dict[str, Any]) -> str | None:
    """The first applicationId the envelope carries as a string."""
    return next((value for value in application_ids(envelope) if isinstance(value, str)), None)


def create_app(
    *,
    verify: bool | None = None,
    skill_ids: Collection[str] | None = None,
    verifier: Any = None,
    skill: Any = None,
) -> Flask:
    """The Flask app. Settings default to the environment: BACKCOACH_VERIFY (on unless 0/false),
    BACKCOACH_SKILL_ID (comma-separated ids to accept). Pass `verifier` to use another trust store.
    """
    from skill.alexa.builder import default_skill

    verify = _env_flag("BACKCOACH_VERIFY", True) if verify is None else verify
    ids = set(skill_ids) if skill_ids is not None else _skill_ids(os.environ.get("BACKCOACH_SKILL_ID"))
    skill_adapter = import_skill_adapter()
    app = Flask("backcoach")
    # One byte over the cap so a chunked body (no Content-Length) that werkzeug cuts short
    # can still be told apart from one that fits.
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES + 1
    # The SDK's own verifiers rely on certvalidator/oscrypto; ours replace them.
    app.config[skill_adapter.VERIFY_SIGNATURE_APP_CONFIG] = False
    app.config[skill_adapter.VERIFY_TIMESTAMP_APP_CONFIG] = False
    target = skill or default_skill()
    adapter = skill_adapter.SkillAdapter(skill=target, skill_id=next(iter(sorted(ids)), "backcoach"), verifiers=[], app=app)
    if verify:
        if verifier is None:
            from skill.web.verifier import RequestVerifier

            verifier = RequestVerifier(skill_ids=ids or None)
        if not ids:
            log.warning("BACKCOACH_SKILL_ID is not set: requests for any skill id are accepted")
    else:
        verifier = None
        log.warning("request verification is OFF: only use this for local testing, never on the internet")

    @app.post("/")
    def alexa() -> Response:
        body = request.get_data(cache=True)
        if len(body) > MAX_BODY_BYTES:
            abort(413)
        if verifier is not None:
            from skill.web.verifier import VerificationError

            try:
                verifier.verify(request.headers, body)
            except VerificationError as exc:
                log.warning("refused request: %s", exc)
                abort(400)
        else:
            envelope = _parse(body)
            if ids and _application_id(envelope) not in ids:
                log.warning("refused request: skill id %r is not accepted", _application_id(envelope))
                abort(400)
        return adapter.dispatch_request()

    @app.get("/health")
    def health() -> Response:
        return jsonify(status="ok")

    @app.errorhandler(InvalidEnvelope)
    def invalid_envelope(error: InvalidEnvelope) -> tuple[Response, int]:
        # Raised by the skill's serializer inside the adapter, before any handler runs.
        log.warning("refused request: %s", error)
        return jsonify(error="Bad Request"), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        response = jsonify(error=error.name)
        if error.code == 405:
            response.headers["Allow"] = ", ".join(getattr(error, "valid_methods", None) or ["POST"])
        return response, error.code or 400

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response, int]:
        log.exception("unexpected error", exc_info=error)
        return jsonify(error="Internal Server Error"), 500

    return app


def _parse(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or a 400."""
    try:
        text = body.decode("utf-8")
        if too_deep(text):
            log.warning("refused request: body nests deeper than %d", MAX_DEPTH)
            abort(400)
        envelope = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        log.warning("refused request: body is not UTF-8 JSON")
        abort(400)
    if not isinstance(envelope, dict):
        log.warning("refused request: body is not a JSON object")
        abort(400)
    return envelope
