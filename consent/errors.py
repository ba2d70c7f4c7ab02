"""The consent app's error codes, registered in ``ConsentConfig.ready``."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ConsentErrorCode(models.TextChoices):
    CONSENT_REQUIRED = (
        "consent_required",
        _("The member has not consented to this use, or withdrew."),
    )
    IDENTITY_NOT_VERIFIED = (
        "identity_not_verified",
        _("The requester's identity did not match the member's record."),
    )


STATUSES: dict[str, int] = {
    ConsentErrorCode.CONSENT_REQUIRED: 403,
    ConsentErrorCode.IDENTITY_NOT_VERIFIED: 403,
}
