from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partners.access import staff_role_of
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode, validation_failed
from partners.keys import ParsedKey, digests_match, generate_key, parse_key
from partners.models import ApiKey, ApiScope, AuditEvent, Partner, StaffRole
from partners.services.audit import audit_record
from partners.services.grants import partner_grant
from partners.services.webhooks import webhook_emit

# A key that was just used is not written again for this long: last-used time is for people
# reading the admin, and one UPDATE per API request would be a needless hot-path write.
_LAST_USED_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    plaintext: str  # shown once to the caller, never stored


def _key_event(api_key: ApiKey) -> dict[str, object]:
    return {
        "api_key_id": str(api_key.pk),
        "name": api_key.name,
        "prefix": api_key.masked,
        "scopes": list(api_key.scopes),
    }


def _check_may_issue(*, partner: Partner, scopes: list[str], actor: Actor) -> None:
    if actor.api_key is not None:
        # A key can only hand out what it holds itself, and only for its own partner.
        if actor.api_key.partner_id != partner.pk:
            raise ApplicationError(ErrorCode.PERMISSION_DENIED)
        missing = set(scopes) - set(actor.api_key.scopes)
        if missing:
            raise ApplicationError(
                ErrorCode.INSUFFICIENT_SCOPE,
                _("A key cannot issue scopes it does not hold: %(scopes)s.")
                % {"scopes": ", ".join(sorted(missing))},
            )
        return
    role = staff_role_of(actor.user)
    if role is None:
        raise ApplicationError(ErrorCode.PERMISSION_DENIED)
    if role.role == StaffRole.Role.ALLIANCE_MANAGER:
        return
    if role.role == StaffRole.Role.PARTNER_ADMIN and role.partner_id == partner.pk:
        return
    raise ApplicationError(ErrorCode.PERMISSION_DENIED)


def _validate_scopes(scopes: list[str]) -> list[str]:
    if not scopes:
        raise validation_failed("scopes", _("Give at least one scope."))
    unknown = sorted(set(scopes) - set(ApiScope.values))
    if unknown:
        raise validation_failed(
            "scopes", _("Unknown scopes: %(scopes)s.") % {"scopes": ", ".join(unknown)}
        )
    return sorted(set(scopes))


def api_key_issue(
    *,
    partner: Partner,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
    actor: Actor,
    key: ParsedKey | None = None,
) -> IssuedKey:
    """Issue a key for ``partner``. The plaintext is returned once and never stored. ``key``
    is for the development demo alone (``partners.keys.derive_key``); otherwise it is random.

    Raises ApplicationError: validation_failed (scopes, expiry), permission_denied (the actor
    may not issue for this partner), insufficient_scope (a key asking for more than it holds).
    """
    scopes = _validate_scopes(scopes)
    _check_may_issue(partner=partner, scopes=scopes, actor=actor)
    if expires_at is not None and expires_at <= timezone.now():
        raise validation_failed("expires_at", _("The expiry must be in the future."))
    generated = key or generate_key()
    with transaction.atomic():
        api_key = ApiKey(
            partner=partner,
            name=name,
            lookup=generated.lookup,
            digest=generated.digest,
            scopes=scopes,
            expires_at=expires_at,
            created_by_user=actor.user,
            created_by_key=actor.api_key,
        )
        api_key.full_clean()
        api_key.save()
        audit_record(
            action=AuditEvent.Action.API_KEY_ISSUED,
            actor=actor,
            partner=partner,
            target=api_key,
            detail={"scopes": scopes, "expires_at": expires_at.isoformat() if expires_at else None},
        )
        partner_grant(partner=partner, obj=api_key, perms=("view", "change"), actor=actor)
        webhook_emit(partner=partner, event_type="api_key.issued", data=_key_event(api_key))
    return IssuedKey(api_key=api_key, plaintext=generated.plaintext)


def api_key_revoke(*, api_key: ApiKey, actor: Actor) -> ApiKey:
    """Revoke a key at once. Revoking a revoked key changes nothing."""
    with transaction.atomic():
        api_key = ApiKey.objects.select_for_update().select_related("partner").get(pk=api_key.pk)
        if api_key.revoked_at is not None:
            return api_key
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_record(
            action=AuditEvent.Action.API_KEY_REVOKED,
            actor=actor,
            partner=api_key.partner,
            target=api_key,
        )
        webhook_emit(
            partner=api_key.partner, event_type="api_key.revoked", data=_key_event(api_key)
        )
    return api_key


def api_key_rotate(
    *,
    api_key: ApiKey,
    actor: Actor,
    overlap: timedelta | None = None,
    expires_at: datetime | None = None,
) -> IssuedKey:
    """Issue a successor with the same name and scopes; the old key keeps working for
    ``overlap`` (default SANPO_API_KEY_ROTATION_OVERLAP_HOURS) so clients can switch.

    Raises ApplicationError(conflict) for a revoked, expired or already rotated key.
    """
    if overlap is None:
        overlap = timedelta(hours=settings.SANPO_API_KEY_ROTATION_OVERLAP_HOURS)
    with transaction.atomic():
        # Lock: two rotations of one key at once must not both issue a successor.
        old = ApiKey.objects.select_for_update().select_related("partner").get(pk=api_key.pk)
        if old.revoked_at is not None or old.is_expired() or old.replaced_by_id is not None:
            raise ApplicationError(
                ErrorCode.CONFLICT, _("Only a live key that was not rotated yet can be rotated.")
            )
        issued = api_key_issue(
            partner=old.partner,
            name=old.name,
            scopes=list(old.scopes),
            expires_at=expires_at,
            actor=actor,
        )
        overlap_end = timezone.now() + overlap
        old.expires_at = min(old.expires_at, overlap_end) if old.expires_at else overlap_end
        old.replaced_by = issued.api_key
        old.save(update_fields=["expires_at", "replaced_by"])
        audit_record(
            action=AuditEvent.Action.API_KEY_ROTATED,
            actor=actor,
            partner=old.partner,
            target=old,
            detail={"successor": str(issued.api_key.pk), "old_expires_at": overlap_end.isoformat()},
        )
    return issued


def _refuse(api_key: ApiKey, code: ErrorCode) -> ApplicationError:
    # Refusals of a real key are security events; record at most one a minute per key so a
    # misconfigured client cannot flood the audit log.
    if cache.add(f"audit:key-refused:{api_key.pk}", 1, timeout=60):
        audit_record(
            action=AuditEvent.Action.API_KEY_REJECTED,
            actor=Actor(api_key=api_key),
            partner=api_key.partner,
            target=api_key,
            outcome=AuditEvent.Outcome.DENIED,
            detail={"reason": code.value},
        )
    return ApplicationError(code)


def api_key_authenticate(plaintext: str) -> ApiKey:
    """Return the live key for ``plaintext``, with its partner loaded.

    Raises ApplicationError: invalid_api_key, api_key_revoked, api_key_expired,
    partner_suspended. The status of the partner is read on every call, so suspending a
    partner stops its access from the next request on.
    """
    parsed = parse_key(plaintext)
    if parsed is None:
        raise ApplicationError(ErrorCode.INVALID_API_KEY)
    api_key = ApiKey.objects.select_related("partner").filter(lookup=parsed.lookup).first()
    if api_key is None or not digests_match(api_key.digest, parsed.plaintext):
        raise ApplicationError(ErrorCode.INVALID_API_KEY)
    now = timezone.now()
    if api_key.revoked_at is not None:
        raise _refuse(api_key, ErrorCode.API_KEY_REVOKED)
    if api_key.is_expired(now):
        raise _refuse(api_key, ErrorCode.API_KEY_EXPIRED)
    if api_key.partner.status != Partner.Status.ACTIVE:
        raise _refuse(api_key, ErrorCode.PARTNER_SUSPENDED)
    if api_key.last_used_at is None or now - api_key.last_used_at > _LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
