"""The consent app's error codes, registered in ``ConsentConfig.ready``."""

from django.db import models


class ConsentErrorCode(models.TextChoices):
    CONSENT_REQUIRED = (
        "consent_required",
        "The member has not consented to this use, or withdrew.",
    )
    IDENTITY_NOT_VERIFIED = (
        "identity_not_verified",
        "The requester's identity did not match the member's record.",
    )


STATUSES: dict[str, int] = {
    ConsentErrorCode.CONSENT_REQUIRED: 403,
    ConsentErrorCode.IDENTITY_NOT_VERIFIED: 403,
}
