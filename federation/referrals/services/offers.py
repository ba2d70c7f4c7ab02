"""Offers and the links a source hands out for them.

An offer stands on the agreement in force that lets its source refer customers to its
destination: a ``referral_tracking`` data flow from source to destination and a ``referral``
section in the terms. The offer may narrow the section (a lower fee, a shorter window), never
widen it; what it does not give, it takes from the section, so later amendments of the terms
do not change an offer already handed out.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from federation.agreements.selectors import TermsInForce, terms_in_force
from federation.errors import FederationErrorCode
from federation.referrals.audit import ReferralAuditAction
from federation.referrals.codes import new_code, new_token
from federation.referrals.errors import ReferralErrorCode
from federation.referrals.models import ReferralLink, ReferralOffer
from federation.referrals.services.consent import PURPOSE, require_tracking_consent
from partners.actors import Actor
from partners.errors import ApplicationError, validation_failed
from partners.models import MemberAccount, Partner
from partners.services import audit_record

_HTTPS = URLValidator(schemes=["https"])
TEXTS = ("title_ja", "title_en", "description_ja", "description_en")


def no_referral_agreement(source: Partner) -> ApplicationError:
    """The refusal when no agreement lets ``source`` refer customers to a company; the same
    words for a company it does not know, so the two cannot be told apart."""
    return ApplicationError(
        FederationErrorCode.NO_AGREEMENT,
        _("No agreement in force lets %(source)s refer customers to this company.")
        % {"source": source.slug},
    )


def referral_terms(*, source: Partner, destination: Partner) -> TermsInForce:
    """The terms in force under which ``source`` refers customers to ``destination`` today;
    refuses with ``no_agreement`` when there are none, or they have no referral part."""
    terms = terms_in_force(provider=source, recipient=destination, purpose=PURPOSE)
    if terms is None or terms.referral is None:
        raise no_referral_agreement(source)
    return terms


def landing_url_clean(raw: str) -> str:
    """An https URL without credentials: the only place a click is ever sent."""
    try:
        _HTTPS(raw)
    except ValidationError:
        raise validation_failed("landing_url", _("Give an https URL.")) from None
    parts = urlsplit(raw)
    if parts.username is not None or parts.password is not None:
        raise validation_failed("landing_url", _("A landing URL carries no user or password."))
    return raw


def _narrowed(given: Decimal | None, agreed: str | None, field: str) -> Decimal | None:
    if agreed is None:
        if given is not None:
            raise ApplicationError(
                ReferralErrorCode.FEE_NOT_ALLOWED,
                _("The agreement's referral terms set no %(field)s.") % {"field": field},
            )
        return None
    most = Decimal(agreed)
    if given is not None and given > most:
        raise ApplicationError(
            ReferralErrorCode.FEE_NOT_ALLOWED,
            _("%(field)s may be at most %(most)s under the agreement.")
            % {"field": field, "most": agreed},
        )
    return most if given is None else given


def _fees(terms: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    days = values.get("attribution_days") or terms["attribution_days"]
    if days > terms["attribution_days"]:
        raise ApplicationError(
            ReferralErrorCode.FEE_NOT_ALLOWED,
            _("attribution_days may be at most %(most)s under the agreement.")
            % {"most": terms["attribution_days"]},
        )
    return {
        "lead_fee_yen": _narrowed(
            values.get("lead_fee_yen"), terms.get("lead_fee_yen"), "lead_fee_yen"
        ),
        "sale_fee_yen": _narrowed(values.get("sale_fee_yen"), terms["fee_yen"], "sale_fee_yen"),
        "sale_fee_percent": _narrowed(
            values.get("sale_fee_percent"), terms["fee_percent"], "sale_fee_percent"
        ),
        "attribution_days": days,
    }


def referral_offer_create(
    *,
    source: Partner,
    destination: Partner,
    texts: dict[str, str],
    landing_url: str,
    actor: Actor,
    fees: dict[str, Any] | None = None,
    valid_from: date | None = None,
    valid_until: date | None = None,
    member_coins: int = 0,
    member_coins_on: str = "sale",
) -> ReferralOffer:
    """An offer of ``destination``'s by ``source``: ``texts`` are its ``title_ja``,
    ``title_en``, ``description_ja`` and ``description_en``; ``fees`` may narrow the terms'
    ``lead_fee_yen``, ``sale_fee_yen``, ``sale_fee_percent`` and ``attribution_days``.
    Valid from today (or ``valid_from``) until the version in force runs out (or
    ``valid_until``, not later). ``member_coins``, funded by the source, go to the referred
    member on their counted conversion of kind ``member_coins_on`` (``member_coins``
    module). Raises no_agreement, fee_not_allowed, validation_failed."""
    terms = referral_terms(source=source, destination=destination)
    assert terms.referral is not None
    start = valid_from or timezone.localdate()
    end = valid_until or terms.version.valid_until
    if end > terms.version.valid_until or end < start:
        raise validation_failed(
            "valid_until",
            _("A date from valid_from to the agreement's end, %(end)s.")
            % {"end": terms.version.valid_until.isoformat()},
        )
    offer = ReferralOffer(
        agreement=terms.agreement,
        source=source,
        destination=destination,
        landing_url=landing_url_clean(landing_url),
        valid_from=start,
        valid_until=end,
        member_coins=member_coins,
        member_coins_on=member_coins_on,
        **{key: texts.get(key, "") for key in TEXTS},
        **_fees(terms.referral, fees or {}),
    )
    with transaction.atomic():
        offer.full_clean()
        offer.save()
        audit_record(
            action=ReferralAuditAction.OFFER_CREATED,
            actor=actor,
            partner=source,
            target=offer,
            detail={"destination": destination.slug, "agreement": str(terms.agreement.pk)},
        )
    return offer


def referral_link_create(
    *,
    offer: ReferralOffer,
    actor: Actor,
    member: MemberAccount | None = None,
    campaign: str = "",
    channel: str = "",
) -> ReferralLink:
    """A link (with its code) for the offer's source to hand out: for ``member``, one of its
    own who recommends the offer and consents to referral tracking with the destination now
    (else consent_required), or for a ``campaign`` without a member. Raises no_agreement when
    the terms no longer allow the offer, offer_not_valid once it has run out."""
    referral_terms(source=offer.source, destination=offer.destination)
    if offer.valid_until < timezone.localdate():
        raise ApplicationError(ReferralErrorCode.OFFER_NOT_VALID)
    if member is not None:
        assert member.partner_id == offer.source_id
        require_tracking_consent(member, offer.destination)
    elif not campaign:
        raise validation_failed("campaign", _("Give a member_number or a campaign."))
    for _attempt in range(3):  # a collision of 192 random bits, or of a code, is a retry
        link = ReferralLink(
            offer=offer,
            token=new_token(),
            code=new_code(),
            member=member,
            campaign=campaign,
            channel=channel,
        )
        try:
            with transaction.atomic():
                link.save()
                break
        except IntegrityError:
            continue
    else:  # pragma: no cover - three collisions in a row
        raise RuntimeError("Could not draw a unique referral token and code")
    audit_record(
        action=ReferralAuditAction.LINK_CREATED,
        actor=actor,
        partner=offer.source,
        target=link,
        detail={"offer": str(offer.pk), "campaign": campaign, "for_member": member is not None},
    )
    return link
