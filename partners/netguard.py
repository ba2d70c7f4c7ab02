"""Refuse webhook URLs that point into our own network (SSRF).

A URL is checked when it is registered and again, by address, on every send: the name is
resolved once, every address it resolves to must be public, and the connection is then made
to that checked address, so a DNS answer that changes between check and send (rebinding)
cannot redirect a delivery to an internal host.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from partners.errors import ApplicationError, ErrorCode

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked address to connect to


def _refused(message: str) -> ApplicationError:
    # message: in the language of the request (or, for a delivery, of the delivery log).
    return ApplicationError(ErrorCode.WEBHOOK_URL_REFUSED, message, fields={"url": [message]})


def _address_allowed(address: IPAddress, *, allow_loopback: bool) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return allow_loopback
    # is_global excludes private, link-local (cloud metadata at 169.254.169.254), shared
    # (100.64/10), reserved, multicast and unspecified ranges alike.
    return address.is_global and not address.is_multicast


def resolve_target(url: str) -> Target:
    """Check ``url`` and return where to connect. Raises ApplicationError(webhook_url_refused)."""
    allow_loopback: bool = settings.SANPO_WEBHOOK_ALLOW_LOOPBACK
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"}:
        raise _refused(_("Webhook URLs must use https."))
    if parts.username or parts.password:
        raise _refused(_("Webhook URLs must not carry credentials."))
    host = parts.hostname
    if not host:
        raise _refused(_("The webhook URL has no host."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise _refused(_("The webhook URL has an invalid port.")) from None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise _refused(_("The host %(host)s does not resolve.") % {"host": repr(host)}) from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise _refused(_("The host %(host)s does not resolve.") % {"host": repr(host)})
    for address in addresses:
        if not _address_allowed(address, allow_loopback=allow_loopback):
            raise _refused(
                _(
                    "Webhook URLs must resolve to public addresses; %(host)s resolves to an "
                    "internal one."
                )
                % {"host": repr(host)}
            )
    if parts.scheme == "http" and not (allow_loopback and all(a.is_loopback for a in addresses)):
        raise _refused(_("Webhook URLs must use https."))
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=parts.scheme, host=host, port=port, path=path, address=str(addresses[0]))
