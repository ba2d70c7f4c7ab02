"""The look of the preference page: the company whose portal sent the member the link (the
member's own company, the host for the host's members), its name and a mark in its colour.

Partners carry no brand colour or logo yet, so every company gets the same quiet default and a
mark made of the first letter of its name; this is the one place to read them from the partner
once they exist. Nothing is loaded from elsewhere: the page stays one request.
"""

from __future__ import annotations

from dataclasses import dataclass

from consent.names import partner_name
from partners.models import Partner

# A deep blue-green that white text reads well on (contrast 7.5:1): calm, and not the red of
# the withdraw buttons.
DEFAULT_COLOUR = "#1f5c6b"


@dataclass(frozen=True)
class Branding:
    name: str  # in the page's language
    colour: str  # a CSS hex colour, safe to write into the page's style
    mark: str  # what stands in the logo's place


def host_branding(company: Partner) -> Branding:
    """How the page presents ``company``, in the active language."""
    name = partner_name(company)
    return Branding(name=name, colour=DEFAULT_COLOUR, mark=name[:1].upper())
