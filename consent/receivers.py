"""Consent's answers to what happens to members in ``partners``."""

from typing import Any

from django.dispatch import receiver

from consent.models import Channel
from consent.services import consents_withdraw_all, erasure_notify_recipients
from partners.actors import Actor
from partners.models import MemberAccount
from partners.signals import member_erased


@receiver(member_erased)
def withdraw_consents_of_erased_member(
    sender: type, *, member: MemberAccount, actor: Actor, **kwargs: Any
) -> None:
    # However the erasure came (a data-subject request, the admin), every recipient that may
    # use the member's data hears that it must stop, and every one that may hold it, to delete it.
    consents_withdraw_all(member=member, channel=Channel.DATA_SUBJECT_REQUEST, actor=actor)
    erasure_notify_recipients(member=member)
