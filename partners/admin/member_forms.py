"""The member account form: personal data typed as plain text, checked by the services' own
validation and handed to them to normalise and seal."""

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from partners import pii
from partners.member_columns import COLUMNS
from partners.models import MemberAccount, Partner
from partners.normalize import PREFECTURES, InvalidValueError
from partners.normalize import normalize_member_number as _normalize_member_number
from partners.services.member_records import MemberInvalidError, clean_member

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PERSONAL_LABELS: "dict[str, StrOrPromise]" = {
    "name": _("Name"),
    "name_kana": _("Name (kana)"),
    "email": _("E-mail"),
    "phone": _("Phone"),
    "postal_code": _("Postal code"),
    "address": _("Address"),
    "birth_date": _("Birth date"),
}
_CLEARABLE = tuple(name for name in pii.PERSONAL_FIELDS if name != "name")
# The member_create/member_update input names the form provides, in COLUMNS order.
_SERVICE_FIELDS = tuple(name for name in COLUMNS if name != "member_number")
_SETTABLE_STATUSES = [
    (status.value, status.label)
    for status in (MemberAccount.Status.ACTIVE, MemberAccount.Status.INACTIVE)
]
PREFECTURE_CHOICES = [(code, f"{code} {name}") for code, name in PREFECTURES]


def _personal_field(
    name: str, *, textarea: bool = False, help_text: "StrOrPromise" = ""
) -> forms.CharField:
    # autocomplete off: browsers should not remember members' personal data.
    attrs = {"autocomplete": "off"}
    widget = forms.Textarea(attrs={**attrs, "rows": 3}) if textarea else forms.TextInput(attrs)
    return forms.CharField(
        label=PERSONAL_LABELS[name], required=False, strip=False, widget=widget, help_text=help_text
    )


class MemberAccountForm(forms.ModelForm):
    """Personal data as plain fields, handed to member_create / member_update as strings: the
    services validate, normalise and seal them. Editing an account decrypts nothing, so its
    personal fields start empty: a blank field keeps the stored value, "clear" removes one.

    The form checks the values with the services' own ``clean_member`` first, so a bad value
    is a form error on its field; the services check again when saving.
    """

    status = forms.ChoiceField(
        label=capfirst(_("status")), choices=_SETTABLE_STATUSES, initial=MemberAccount.Status.ACTIVE
    )
    prefecture = forms.ChoiceField(
        label=capfirst(_("prefecture")),
        choices=[("", _("From the address")), *PREFECTURE_CHOICES],
        required=False,
    )
    name = _personal_field("name")
    name_kana = _personal_field("name_kana")
    email = _personal_field("email")
    phone = _personal_field("phone")
    postal_code = _personal_field("postal_code")
    address = _personal_field("address", textarea=True)
    birth_date = _personal_field("birth_date", help_text=_("YYYY-MM-DD"))
    clear = forms.MultipleChoiceField(
        choices=[(name, PERSONAL_LABELS[name]) for name in _CLEARABLE],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Remove"),
        help_text=_("Remove these stored values."),
    )

    class Meta:
        model = MemberAccount
        fields = [
            "partner",
            "member_number",
            "kind",
            "status",
            "prefecture",
            "joined_on",
            "last_active_on",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "partner" in self.fields:
            partners = Partner.objects.filter(holds_customer_data=True)
            self.fields["partner"].queryset = partners  # type: ignore[attr-defined]
        if not self.instance._state.adding:
            self.fields["name"].help_text = gettext("Leave blank to keep the stored name.")

    @property
    def adding(self) -> bool:
        return bool(self.instance._state.adding)

    def clean_member_number(self) -> str:
        try:
            return _normalize_member_number(self.cleaned_data["member_number"])
        except InvalidValueError as exc:
            raise forms.ValidationError(exc.message) from None

    def service_values(self) -> dict[str, str]:
        """The input for the service: every field when adding; when changing, only the fields
        typed or changed, and the removed ones as empty strings."""
        data = self.cleaned_data
        names = [name for name in _SERVICE_FIELDS if name in self.fields]
        if self.adding:
            names.insert(0, "member_number")
        else:
            names = [name for name in names if name in self.changed_data]
        values = {name: _as_input(data.get(name)) for name in names}
        for name in data.get("clear") or ():
            values[name] = ""
        return values

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        for name in cleaned.get("clear") or ():
            if name in self.changed_data:
                self.add_error(name, gettext("Give a new value or remove it, not both."))
        values = self.service_values()
        if not self.adding:
            # Only the given fields are checked: complete the record with stand-ins.
            kind = cleaned.get("kind") or self.instance.kind
            stand_ins = {"member_number": self.instance.member_number, "kind": kind, "name": "-"}
            values = stand_ins | {k: v for k, v in values.items() if k != "name" or v}
        try:
            clean_member(values, today=timezone.localdate())
        except MemberInvalidError as invalid:
            for error in invalid.errors:
                field = error.field if error.field in self.fields else None
                if field not in self.errors:  # one message per field: the form's own first
                    self.add_error(field, error.message)
        return cleaned


def _as_input(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
