"""The federation app's error codes, registered in ``FederationConfig.ready``."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FederationErrorCode(models.TextChoices):
    NO_AGREEMENT = (
        "no_agreement",
        _("No active agreement between these companies allows this."),
    )
    DISCLOSURE_REFUSED = (
        "disclosure_refused",
        _("The question could reveal a count that is withheld."),
    )


STATUSES: dict[str, int] = {
    FederationErrorCode.NO_AGREEMENT: 403,
    FederationErrorCode.DISCLOSURE_REFUSED: 400,
}
