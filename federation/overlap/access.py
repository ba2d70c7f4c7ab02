"""How the partner API obtains the company an overlap question is about: one ``principal``
shares an agreement with, which a stranger cannot tell from a company that does not exist."""

from federation.agreements.access import access_counterparty_by_slug
from federation.overlap.services import no_agreement_to_count
from partners.models import Partner


def access_other_by_slug(principal: Partner, slug: str) -> Partner:
    """The company whose base ``principal`` asks about. A company ``principal`` has no
    agreement with, and a slug nobody has, answer as the services answer a company whose
    agreement is not in force (no_agreement), so that neither can be told from it."""
    return access_counterparty_by_slug(
        principal, slug, missing=no_agreement_to_count(principal, slug)
    )
