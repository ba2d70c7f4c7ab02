"""The API's one request parser: DRF's JSON parser, with nesting bounded."""

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json as drf_json

from partners import jsondepth
from partners.errors import ApplicationError, ErrorCode


class BoundedJSONParser(parsers.JSONParser):
    """A body nested deeper than ``jsondepth.MAX_DEPTH`` is a 400 ``invalid_request``, never
    the parser's ``RecursionError`` (a 500). Bodies are capped by SANPO_MAX_BODY_BYTES before
    they get here, so reading one whole is bounded."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        # DRF's check admits text codecs only (no bz2 bombs); the stubs do not know it yet.
        encoding = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode(encoding)
            return jsondepth.loads(
                text, parse_constant=drf_json.strict_constant if self.strict else None
            )
        except jsondepth.JSONTooDeepError as exc:
            raise ApplicationError(
                ErrorCode.INVALID_REQUEST,
                _("The body nests arrays or objects more than %(depth)d levels deep.")
                % {"depth": exc.max_depth},
            ) from None
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            raise ParseError(_("JSON parse error - %(detail)s") % {"detail": exc}) from None
