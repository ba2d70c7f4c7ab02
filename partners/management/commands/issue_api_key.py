"""Issue one API key for a partner and print only the key, for scripts (the CI fuzzing run
issues one per partner it fuzzes as). The console does the same for people."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from partners import services
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import ApiScope, Partner


class Command(BaseCommand):
    help = (
        "Issue an API key for the partner SLUG on behalf of the staff user --by (who must be "
        "allowed to issue it) and print the key alone. Without --scope: every scope."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The partner's slug.")
        parser.add_argument("--by", required=True, help="The username of the staff user issuing.")
        parser.add_argument("--name", default="Issued from the command line")
        parser.add_argument(
            "--scope", action="append", choices=ApiScope.values, dest="scopes", default=None
        )

    def handle(self, *args: Any, **options: Any) -> None:
        partner = Partner.objects.filter(slug=options["slug"]).first()
        if partner is None:
            raise CommandError(f"There is no partner {options['slug']!r}.")
        user = get_user_model().objects.filter(username=options["by"]).first()
        if user is None:
            raise CommandError(f"There is no user {options['by']!r}.")
        try:
            issued = services.api_key_issue(
                partner=partner,
                name=options["name"],
                scopes=options["scopes"] or list(ApiScope.values),
                actor=Actor(user=user),
            )
        except ApplicationError as error:
            raise CommandError(error.message) from None
        self.stdout.write(issued.plaintext)
