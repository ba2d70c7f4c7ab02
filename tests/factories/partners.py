"""Companies, staff, API keys and members."""

from typing import Any, cast

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

from partners import services
from partners.actors import Actor
from partners.models import ApiScope, MemberAccount, Partner, StaffRole


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.django.Password("correct horse battery staple")


def make_partner(slug: str, *, kind: str = Partner.Kind.BRAND, **extra: Any) -> Partner:
    return services.partner_create(
        slug=slug,
        name_ja=extra.pop("name_ja", f"{slug}株式会社"),
        name_latin=extra.pop("name_latin", slug.replace("-", " ").title()),
        kind=kind,
        holds_customer_data=extra.pop("holds_customer_data", True),
        actor=Actor.system(),
    )


def make_user(username: str) -> User:
    return cast(User, UserFactory(username=username))


def make_staff(username: str, role: StaffRole.Role, partner: Partner | None = None) -> User:
    user = make_user(username)
    services.staff_role_set(user=user, role=role, partner=partner, actor=Actor.system())
    user.refresh_from_db()
    return user


def issue_key(
    partner: Partner,
    scopes: tuple[str, ...] = (ApiScope.READ, ApiScope.WRITE, ApiScope.ADMIN),
    **kw: Any,
) -> services.IssuedKey:
    manager = (
        get_user_model().objects.filter(sanpo_role__role=StaffRole.Role.ALLIANCE_MANAGER).first()
    )
    if manager is None:
        manager = make_staff("factory-manager", StaffRole.Role.ALLIANCE_MANAGER)
    return services.api_key_issue(
        partner=partner,
        name=kw.pop("name", "test key"),
        scopes=list(scopes),
        actor=Actor(user=manager),
        **kw,
    )


class MemberFactory(factory.Factory):
    """A member account of ``partner``, written by ``member_create`` (sealed personal data,
    blind indexes, audit). Extra keyword arguments are member columns; None leaves one out."""

    class Meta:
        model = MemberAccount

    member_number = factory.Sequence(lambda n: f"M-{n:04d}")
    kind = "household"
    name = "佐藤 花子"

    @classmethod
    def _create(cls, model_class: Any, *args: Any, partner: Partner, **values: Any) -> Any:
        values = {name: value for name, value in values.items() if value is not None}
        return services.member_create(partner=partner, values=values, actor=Actor.system())


def make_member(partner: Partner, number: str | None = None, **values: Any) -> MemberAccount:
    if number is not None:
        values["member_number"] = number
    return cast(MemberAccount, MemberFactory(partner=partner, **values))
