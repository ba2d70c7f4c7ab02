"""What the pages of the agreement console share: the agreement a page is about, for an
alliance manager, and the way back to its page."""

from django.http import HttpRequest

from federation.agreements.models import Agreement
from federation.kernel.admin import AllianceConsoleAdmin


class AgreementConsole(AllianceConsoleAdmin):
    def agreement_of(self, request: HttpRequest, object_id: str) -> Agreement:
        """The agreement of a page: PermissionDenied for anyone but an alliance manager, 404
        when there is none."""
        agreement = self.managed_object(request, object_id)
        assert isinstance(agreement, Agreement)
        return agreement

    def change_url(self, agreement: Agreement) -> str:
        return self.url_of("change", agreement.pk)
