"""What the consent services share: their error for a bad field, and the canonical hash."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from partners.errors import ApplicationError, ErrorCode


def invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(ErrorCode.VALIDATION_FAILED, message, fields={field: [message]})


def sha256_canonical(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
