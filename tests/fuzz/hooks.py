"""Schemathesis hooks for the CI fuzzing run (``tests/fuzz/run.sh``), loaded through
SCHEMATHESIS_HOOKS. Not a pytest module: schemathesis imports it into its own process.

What the hooks change in the requests (``before_call``):

- Every POST carries a fresh ``Idempotency-Key``, as a real client's retry logic would: a key
  the fuzzer drew itself could repeat across different bodies and answer 422
  ``idempotency_key_reused``, which says nothing about the operation under test. A key the
  fuzzer made invalid on purpose (a negative case) and a key left out on purpose (the
  missing-required-header case) are kept as they are.
- The key the run authenticates with is never revoked or rotated: ``POST /api-keys/{id}/revoke``
  and ``…/rotate`` naming it are sent to an unknown id instead (404), because a revoked key
  would turn every later request into 401 and hide the rest of the run (a rotation ends it
  after ``overlap_hours``, which the fuzzer may set to 0). Revoking and rotating other keys,
  such as the ones the fuzzer issues itself, is fuzzed as usual.
- A webhook endpoint the fuzzer registers with a well-formed body points at the loopback
  receiver the script starts, so ping, rotate-secret and deliveries have a live receiver; the
  random public names the fuzzer would pick do not resolve and are refused (400).

Which failures are dropped (``filter_failure``), each for a reason in ``SUPPRESSED``; the README
("Fuzzing") lists them too. Every dropped failure is counted in the run's summary ("dropped by
filter_failure") and written to ``$SANPO_FUZZ_SUPPRESSED`` for the record.
"""

import json
import os
import re
import uuid
from typing import Any

import schemathesis
from schemathesis.core.parameters import ParameterLocation

IN_USE_KEY_ID = os.environ.get("SANPO_FUZZ_KEY_ID", "")
RECEIVER_URL = os.environ.get("SANPO_FUZZ_WEBHOOK_URL", "")
SUPPRESSED_LOG = os.environ.get("SANPO_FUZZ_SUPPRESSED", "")
_KEY_GUARDED = ("/api-keys/{key_id}/revoke", "/api-keys/{key_id}/rotate")

# (error field, message start) of refusals of schema-valid input that JSON Schema cannot
# express: they depend on the data or the clock, not on the shape of the request.
SEMANTIC_REFUSALS: dict[tuple[str, str], str] = {
    ("expires_at", "The expiry must be in the future."): "the clock",
    ("occurred_at", ""): "the clock and the member's history (not in the future, after the last)",
    ("expires_at", "Give a time after"): "the clock",
    ("base_date", "This base date has not ended yet."): "the clock",
    ("base_date", "The Act's first base date"): "the Act's first base date (30 September 2010)",
    ("purpose", "There is no purpose"): "the purpose catalogue in the database",
    ("purpose", "Unknown purpose"): "the purpose catalogue in the database",
    ("notice", ""): "the notices in the database (the one in force, covering the purpose)",
    ("fields", ""): "what the agreement and the notice in force allow",
    ("member_number", ""): "member numbers are compared after NFKC normalisation, and never change",
    **{
        (field, ""): "a member record is normalised (partners.normalize) as a Japanese member "
        "base holds it: full-width forms, phone and postal-code spellings, prefecture names"
        for field in (
            "name",
            "name_kana",
            "email",
            "phone",
            "postal_code",
            "address",
            "birth_date",
            "prefecture",
            "joined_on",
            "last_active_on",
        )
    },
    ("against", ""): "the versions of the agreement in the database",
    ("url", ""): "DNS: the name must resolve to a public address",
    # The host records for any company of the alliance; a slug naming none is refused (a brand
    # gets the same 403 for any slug but its own, so it learns nothing from it).
    ("recipient", "Unknown recipient."): "the alliance's companies (a slug that names none)",
    # The coin endpoints name a member by exactly one of two optional fields.
    ("member", "Give either member_number or member."): "exactly one of two member names",
    # A referral conversion names its referral by exactly one of the tokens, the typed code or
    # the member's enrollment; the funnel reads at most 92 days, its start on or before its end.
    ("tokens", "Give exactly one of"): "exactly one of the tokens, the code or enrolled",
    ("from", "From on or before to"): "a date range of at most 92 days, from before to",
    # The metrics read days from 2000 to 2999 (a format: date string may be any year).
    ("from", "A date, YYYY-MM-DD, from 2000"): "the metrics' days, from 2000 to 2999",
    ("to", "A date, YYYY-MM-DD, from 2000"): "the metrics' days, from 2000 to 2999",
    # A sale carries its amount (a percentage fee is a share of it); a lead has none.
    ("amount_yen", "A sale needs its amount."): "a sale's amount, required by its kind",
    # A typed referral code ends in a check character that catches typing mistakes.
    ("code", "Not a referral code"): "the referral code's check character",
    # A campaign's segment names age bands, JIS prefecture codes and member kinds from their
    # lists; it ends on or after it starts; choice questions list different choices.
    ("segment", ""): "the segment's vocabulary (age bands, prefecture codes, member kinds)",
    ("age_bands", ""): "the segment's vocabulary (age bands, prefecture codes, member kinds)",
    ("prefectures", ""): "the segment's vocabulary (age bands, prefecture codes, member kinds)",
    ("kinds", ""): "the segment's vocabulary (age bands, prefecture codes, member kinds)",
    ("active_within_days", ""): "the segment's days (1 to 3650)",
    ("dormant_for_days", ""): "the segment's days (1 to 3650)",
    ("ends_on", "On or after the start."): "a campaign's dates, the end on or after the start",
    ("choices", ""): "a choice question's choices (different from each other)",
    ("coins_per_answer", ""): "the coin program the agreement funds",
    # A product's landing page is an https URL that Django's URL validator accepts in full.
    ("landing_url", ""): "an https URL with a host name Django's URL validator accepts",
    # A product image is the base64 of a whole JPEG, PNG or WebP, of the type declared.
    ("content", ""): "the bytes of a whole JPEG, PNG or WebP image, read by Pillow",
    ("content_type", "The image is"): "the type the image's bytes show",
}

# 422 refusals of well-formed requests that only the database's state decides: what a member
# did (a click, an enrollment), what a programme recorded (a holdout), what the terms in force
# list. The schema documents each code; no schema can say when it applies.
STATE_REFUSALS: dict[str, str] = {
    "not_enrolled": "the member's enrollments in the database",
    "no_referral_click": "the clicks the database holds for the member's links",
    "outside_window": "the clock and the time of the member's last click",
    "no_holdout": "whether the programme has recorded a holdout yet",
    "unknown_action": "the action catalogue in the agreement terms in force",
}


def _is_negative(case: Any, location: ParameterLocation) -> bool:
    meta = case.meta
    return meta is not None and meta.is_negative_at(location)


def _declares_header(case: Any, name: str) -> bool:
    parameters = case.operation.definition.raw.get("parameters", [])
    return any(p.get("in") == "header" and p.get("name") == name for p in parameters)


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    method = case.method.upper()
    path = case.operation.path
    if method == "POST" and _declares_header(case, "Idempotency-Key"):
        headers = case.headers if case.headers is not None else {}
        if "Idempotency-Key" in headers and not _is_negative(case, ParameterLocation.HEADER):
            headers["Idempotency-Key"] = str(uuid.uuid4())
            case.headers = headers
    if path.endswith(_KEY_GUARDED) and IN_USE_KEY_ID:
        parameters = case.path_parameters or {}
        if str(parameters.get("key_id", "")).strip().lower() == IN_USE_KEY_ID.lower():
            parameters["key_id"] = str(uuid.uuid4())
            case.path_parameters = parameters
    if (
        method == "POST"
        and path.endswith("/webhook-endpoints")
        and RECEIVER_URL
        and isinstance(case.body, dict)
        and "url" in case.body
        and not _is_negative(case, ParameterLocation.BODY)
    ):
        case.body["url"] = RECEIVER_URL


def _error(response: Any) -> dict[str, Any]:
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _resolve(case: Any, schema: Any) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = case.operation.schema.raw_schema["components"]["schemas"][name]
    return schema


def _request_schema(case: Any) -> Any:
    body = case.operation.definition.raw.get("requestBody", {})
    return _resolve(case, body.get("content", {}).get("application/json", {}).get("schema"))


def _undeclared_properties(case: Any, fields: dict[str, Any]) -> bool:
    """Whether every refused field is one the request schema does not declare."""
    schema = _request_schema(case)
    if not isinstance(schema, dict) or not fields:
        return False
    declared = set(schema.get("properties", {}))
    return all(
        name not in declared and messages == ["Unknown or read-only field."]
        for name, messages in fields.items()
    )


def _why_suppressed(failure: Any, case: Any, response: Any) -> str | None:
    kind = type(failure).__name__
    error = _error(response)
    code = error.get("code")
    fields: dict[str, Any] = error["fields"] if isinstance(error.get("fields"), dict) else {}

    if kind == "RejectedPositiveData" and response.status_code == 422 and code in STATE_REFUSALS:
        return "state refusal: " + STATE_REFUSALS[code]
    if kind == "RejectedPositiveData" and response.status_code == 400:
        if code == "invalid_request" and error.get("message") == "The cursor is not valid.":
            return "cursor: opaque, only the server's own next/previous links are valid"
        if code == "validation_failed" and _undeclared_properties(case, fields):
            return (
                "schemathesis' coverage phase sent properties the schema does not declare "
                "(additionalProperties: false) as positive data"
            )
        if code in {"validation_failed", "webhook_url_refused"} and fields:
            reasons = []
            for name, messages in fields.items():
                text = " ".join(messages) if isinstance(messages, list) else str(messages)
                reason = next(
                    (
                        why
                        for (field, start), why in SEMANTIC_REFUSALS.items()
                        if re.sub(r"\[\d+\]", "", name).split(".")[-1] == field
                        and text.startswith(start)
                    ),
                    None,
                )
                if reason is None:
                    return None
                reasons.append(reason)
            return "semantic refusal: " + "; ".join(sorted(set(reasons)))
    # A request line longer than gunicorn's limit is refused before the application with an
    # HTML 414: a refusal (never an acceptance) in a status and shape the schema cannot own.
    if response.status_code == 414 and kind in {
        "UndefinedStatusCode",
        "UndefinedContentType",
        "AcceptedNegativeData",
    }:
        return "414 from gunicorn's request-line limit, answered before the application"
    return None


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    reason = _why_suppressed(failure, case, response)
    if reason is None:
        return True
    if SUPPRESSED_LOG:
        with open(SUPPRESSED_LOG, "a") as log:
            entry = {
                "operation": f"{case.method.upper()} {case.operation.path}",
                "check": type(failure).__name__,
                "status": response.status_code,
                "reason": reason,
            }
            log.write(json.dumps(entry) + "\n")
    return False
