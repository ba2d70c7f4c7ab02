from typing import Any

from django.core.management.base import BaseCommand, CommandError

from consent.models import ConsentEvent
from consent.services import chain_verify
from partners.models import MemberAccount


class Command(BaseCommand):
    help = (
        "Check every member's consent chain and report the first broken link of each: an event "
        "changed, reordered or deleted after it was written. Exits non-zero if any is broken."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        member_ids = ConsentEvent.objects.values_list("member_id", flat=True).distinct()
        checked = broken = 0
        for member in MemberAccount.objects.filter(pk__in=member_ids).select_related("partner"):
            checked += 1
            problem = chain_verify(member=member)
            if problem is not None:
                broken += 1
                self.stdout.write(
                    f"{member.partner.slug} {member.member_number}: event #{problem.sequence} "
                    f"{problem.problem}"
                )
        self.stdout.write(f"{checked} chain(s) checked, {broken} broken.")
        if broken:
            raise CommandError(f"{broken} broken consent chain(s).")
