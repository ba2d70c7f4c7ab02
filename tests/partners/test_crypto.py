"""Encryption at rest: contact details and webhook secrets are Fernet tokens in the database,
plaintext in Python, and `rotate_encryption_keys` moves every token to the newest key."""

from io import StringIO
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import CommandError, call_command
from django.db import connection

from partners import services
from partners.actors import Actor
from partners.crypto import DataKeyUnavailableError, decrypt_text, encrypt_text
from partners.management.commands.rotate_encryption_keys import encrypted_columns
from partners.models import Partner, PartnerContact, WebhookSecret


def _raw(table: str, columns: str, pk: Any) -> tuple[Any, ...]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        row = cursor.fetchone()
    assert row is not None
    return tuple(row)


def _contact(partner: Partner, name: str, email: str, phone: str = "") -> PartnerContact:
    return PartnerContact.objects.create(
        partner=partner, role=PartnerContact.Role.PRIVACY, name=name, email=email, phone=phone
    )


def test_contact_details_are_stored_encrypted_and_read_back_in_plaintext(
    partner: Partner, settings: Any
) -> None:
    contact = _contact(partner, "Mio Kazehaya", "mio@brand-co.example", "+81-3-0000-0000")

    name, email, phone = _raw("partners_partnercontact", "name, email, phone", contact.pk)
    key = Fernet(settings.SANPO_ENCRYPTION_KEYS[0])
    for token, plaintext in [
        (name, "Mio Kazehaya"),
        (email, "mio@brand-co.example"),
        (phone, "+81-3-0000-0000"),
    ]:
        assert plaintext not in token
        assert "Kazehaya" not in token
        assert key.decrypt(token.encode()).decode() == plaintext

    again = PartnerContact.objects.get(pk=contact.pk)
    assert (again.name, again.email, again.phone) == (
        "Mio Kazehaya",
        "mio@brand-co.example",
        "+81-3-0000-0000",
    )


def test_the_same_plaintext_encrypts_differently_each_time(partner: Partner) -> None:
    first = _contact(partner, "Rin Aizawa", "rin@brand-co.example")
    second = _contact(partner, "Rin Aizawa", "rin@brand-co.example")

    assert _raw("partners_partnercontact", "name", first.pk) != _raw(
        "partners_partnercontact", "name", second.pk
    )


def test_an_empty_phone_stays_empty(partner: Partner) -> None:
    contact = _contact(partner, "Sora Hinata", "sora@brand-co.example")
    assert _raw("partners_partnercontact", "phone", contact.pk) == ("",)
    assert PartnerContact.objects.get(pk=contact.pk).phone == ""


def test_webhook_secrets_are_stored_encrypted(partner: Partner) -> None:
    created = services.webhook_endpoint_create(
        partner=partner, url="https://8.8.8.8/hook", events=["api_key.issued"], actor=Actor.system()
    )
    stored = WebhookSecret.objects.get(endpoint=created.endpoint)

    (raw,) = _raw("partners_webhooksecret", "secret", stored.pk)

    assert created.secret not in raw
    assert stored.secret == created.secret


def test_a_tampered_token_fails_with_a_clear_error(partner: Partner) -> None:
    token = encrypt_text("Yuki Shirogane")
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]

    assert decrypt_text(token) == "Yuki Shirogane"
    with pytest.raises(DataKeyUnavailableError, match="cannot be decrypted with any key in SANPO"):
        decrypt_text(tampered)

    contact = _contact(partner, "Yuki Shirogane", "yuki@brand-co.example")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE partners_partnercontact SET name = %s WHERE id = %s", [tampered, contact.pk]
        )
    with pytest.raises(DataKeyUnavailableError, match="cannot be decrypted") as raised:
        PartnerContact.objects.get(pk=contact.pk)
    assert raised.value.location == "partners.PartnerContact.name"


def test_a_token_under_an_unknown_key_fails_with_a_clear_error() -> None:
    foreign = Fernet(Fernet.generate_key()).encrypt(b"Hana Mizuki").decode()
    with pytest.raises(DataKeyUnavailableError, match="cannot be decrypted"):
        decrypt_text(foreign)


def test_rotate_encryption_keys_moves_every_token_to_the_new_key(
    partner: Partner, settings: Any
) -> None:
    old_key = settings.SANPO_ENCRYPTION_KEYS[0]
    contacts = [
        _contact(partner, f"Person {n}", f"p{n}@brand-co.example", "+81" if n % 2 else "")
        for n in range(3)
    ]
    created = services.webhook_endpoint_create(
        partner=partner, url="https://8.8.8.8/hook", events=["api_key.issued"], actor=Actor.system()
    )
    secret = WebhookSecret.objects.get(endpoint=created.endpoint)
    new_key = Fernet.generate_key().decode()
    settings.SANPO_ENCRYPTION_KEYS = [new_key, old_key]
    out = StringIO()

    call_command("rotate_encryption_keys", stdout=out)

    new, old = Fernet(new_key), Fernet(old_key)
    for contact in contacts:
        name, email, phone = _raw("partners_partnercontact", "name, email, phone", contact.pk)
        assert new.decrypt(name.encode()).decode() == contact.name
        assert new.decrypt(email.encode()).decode() == contact.email
        if contact.phone:
            assert new.decrypt(phone.encode()).decode() == contact.phone
        else:
            assert phone == ""
        with pytest.raises(InvalidToken):
            old.decrypt(name.encode())
    (raw_secret,) = _raw("partners_webhooksecret", "secret", secret.pk)
    assert new.decrypt(raw_secret.encode()).decode() == created.secret
    assert "partners.PartnerContact: re-encrypted 3 row(s)" in out.getvalue()
    assert "partners.WebhookSecret: re-encrypted 1 row(s)" in out.getvalue()

    # With the old key dropped, everything still reads through the ORM.
    settings.SANPO_ENCRYPTION_KEYS = [new_key]
    assert sorted(PartnerContact.objects.values_list("name", flat=True)) == [
        "Person 0",
        "Person 1",
        "Person 2",
    ]
    assert WebhookSecret.objects.get(pk=secret.pk).secret == created.secret


def test_rotation_covers_every_encrypted_column_and_check_says_when_the_old_key_may_go(
    partner: Partner, settings: Any
) -> None:
    from federation.models import AgreementParty

    columns = {(model._meta.label, tuple(cols)) for model, cols in encrypted_columns()}
    assert (AgreementParty._meta.label, ("contact_name", "contact_email")) in columns
    _contact(partner, "Aoi Kisaragi", "aoi@brand-co.example")
    settings.SANPO_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.SANPO_ENCRYPTION_KEYS,
    ]
    out = StringIO()

    with pytest.raises(CommandError, match="before removing any key"):
        call_command("rotate_encryption_keys", "--check", stdout=out)
    assert "2 value(s) under key #2 in the list" in out.getvalue()

    call_command("rotate_encryption_keys", stdout=StringIO())
    out = StringIO()
    call_command("rotate_encryption_keys", "--check", stdout=out)
    assert "may be removed" in out.getvalue()


def test_rotation_refuses_to_run_over_a_value_under_no_configured_key(
    partner: Partner, settings: Any
) -> None:
    contact = _contact(partner, "Aoi Kisaragi", "aoi@brand-co.example")
    foreign = Fernet(Fernet.generate_key()).encrypt(b"Ren Amamiya").decode()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE partners_partnercontact SET name = %s WHERE id = %s", [foreign, contact.pk]
        )
    (email_before,) = _raw("partners_partnercontact", "email", contact.pk)
    settings.SANPO_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.SANPO_ENCRYPTION_KEYS,
    ]

    with pytest.raises(CommandError, match=f"partners.PartnerContact.name of {contact.pk}"):
        call_command("rotate_encryption_keys", stdout=StringIO())

    assert _raw("partners_partnercontact", "email", contact.pk) == (email_before,)
