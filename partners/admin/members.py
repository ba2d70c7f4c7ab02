"""Member accounts (personal data only on an explicit, audited reveal) and persons."""

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from partners import pii, selectors, services
from partners.access import has_staff_role
from partners.actors import Actor
from partners.admin.base import ReadOnlyAdmin, ServiceErrorsAsMessages, adopt, object_page_url
from partners.admin.export import CsvExportMixin
from partners.admin.member_forms import PERSONAL_LABELS, PREFECTURE_CHOICES, MemberAccountForm
from partners.admin.member_panels import member_panels
from partners.errors import ApplicationError
from partners.models import MemberAccount, Person, StaffRole
from partners.normalize import PREFECTURE_NAMES, InvalidValueError, normalize_member_number

# Who may see a member's personal data in the console: a role (see partners.access).
PERSONAL_DATA_ROLES = (StaffRole.Role.ALLIANCE_MANAGER, StaffRole.Role.COMPLIANCE_REVIEWER)


def may_view_personal_data(user: Any) -> bool:
    return has_staff_role(user, *PERSONAL_DATA_ROLES)


def personal_data_object(
    model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str, *, missing: str
) -> Any:
    """The object of a page that shows personal data: 404 with ``missing`` if there is none,
    403 unless the user may view the object and may view personal data."""
    obj = model_admin.get_object(request, unquote(object_id))
    if obj is None:
        raise Http404(missing)
    if not model_admin.has_view_or_change_permission(request, obj):
        raise PermissionDenied
    if not may_view_personal_data(request.user):
        raise PermissionDenied
    return obj


def _each_member(
    request: HttpRequest,
    members: Iterable[MemberAccount],
    service: Callable[..., object],
    done: Callable[[int], str],
) -> None:
    """Run a member service on each selected member: one error message per refusal, one
    summary for the rest (``done(count)``)."""
    actor = Actor.from_request(request)
    count = 0
    for member in members:
        try:
            service(member=member, actor=actor)
        except ApplicationError as exc:
            messages.error(request, f"{member}: {exc.message}")
        else:
            count += 1
    if count:
        messages.success(request, done(count))


# The only member columns the console reads to list, show or edit accounts. Ciphertexts, the
# wrapped key and the blind indexes are loaded only to reveal (and by the services, which fetch
# their own rows), so a page that needs none of them cannot leak or decrypt any.
MEMBER_CLEAR_FIELDS = (*selectors.MEMBER_CLEAR_FIELDS, "person")


class PrefectureFilter(admin.SimpleListFilter):
    # The 47 codes, not the database's distinct values: no scan of the whole member table.
    title = _("prefecture")
    parameter_name = "prefecture"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return PREFECTURE_CHOICES

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(prefecture=self.value()) if self.value() else queryset


def member_search_q(term: str) -> Q:
    """The accounts a search box's ``term`` names: an e-mail (it has an "@") through its keyed
    blind index; anything else as a member number (normalised, in any case, as the admin
    always matched them) or, if it reads as one, a phone number through its blind index. Never
    by decrypting: the indexes are keyed hashes of the normalised values
    (``partners.selectors.member_find_by_contact``)."""
    term = term.strip()
    if "@" in term:
        return Q(pk__in=selectors.member_find_by_contact(email=term).values("pk"))
    try:
        by_number = Q(member_number__iexact=normalize_member_number(term))
    except InvalidValueError:
        by_number = Q(pk__in=[])
    return by_number | Q(pk__in=selectors.member_find_by_contact(phone=term).values("pk"))


@admin.register(MemberAccount)
class MemberAccountAdmin(CsvExportMixin, ServiceErrorsAsMessages):
    form = MemberAccountForm
    list_display = [
        "member_number",
        "partner",
        "kind",
        "status",
        "prefecture_display",
        "joined_on",
        "last_active_on",
        "updated_at",
    ]
    list_filter = ["partner", "kind", "status", PrefectureFilter]
    # One exact value: a member number, an e-mail or a phone (see member_search_q).
    search_fields = ["=member_number"]
    search_help_text = _("Search by member number, e-mail or phone number (exact).")
    # Never personal data: the segment columns only, and not even the birth year.
    csv_fields = [
        "member_number",
        "partner",
        "kind",
        "status",
        "prefecture",
        "joined_on",
        "last_active_on",
        "person",
        "created_at",
        "updated_at",
    ]
    list_select_related = ["partner"]
    show_full_result_count = False  # a base holds millions of rows: count them once, not twice
    readonly_fields = [
        "partner",
        "member_number",
        "birth_year",
        "person",
        "created_at",
        "updated_at",
    ]
    actions = ["deactivate", "erase"]
    change_form_template = "admin/partners/memberaccount/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[MemberAccount]:
        return super().get_queryset(request).only(*MEMBER_CLEAR_FIELDS).select_related("partner")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[MemberAccount], search_term: str
    ) -> tuple[QuerySet[MemberAccount], bool]:
        if not search_term.strip():
            return queryset, False
        return queryset.filter(member_search_q(search_term)), False

    def csv_value(self, obj: Any, name: Any) -> Any:
        if name == "person":  # the id, never a name: the person is only who matches whom
            return obj.person_id
        return super().csv_value(obj, name)

    @admin.display(description=_("prefecture"), ordering="prefecture")
    def prefecture_display(self, obj: MemberAccount) -> str:
        if not obj.prefecture:
            return "-"
        return f"{obj.prefecture} {PREFECTURE_NAMES.get(obj.prefecture, '')}".strip()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.status == MemberAccount.Status.ERASED:
            return False  # nothing left to edit
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # members are erased (crypto-shredded), never deleted: records point at them

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else []

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        segment = (
            _("Segment (stored in clear)"),
            {"fields": ["prefecture", "joined_on", "last_active_on"]},
        )
        if obj is None:
            return [
                (None, {"fields": ["partner", "member_number", "kind", "status"]}),
                (_("Personal data (stored encrypted)"), {"fields": list(pii.PERSONAL_FIELDS)}),
                segment,
            ]
        account = (
            None,
            {
                "fields": [
                    "partner",
                    "member_number",
                    "kind",
                    "status",
                    "person",
                    "created_at",
                    "updated_at",
                ]
            },
        )
        segment[1]["fields"].insert(1, "birth_year")
        if not self.has_change_permission(request, obj):
            return [account, segment]
        personal = (
            _("Personal data (stored encrypted)"),
            {
                "fields": [*pii.PERSONAL_FIELDS, "clear"],
                "description": _(
                    "Not shown here: use “Show personal data” (every view is recorded in the "
                    "audit log). Type a value only to replace the stored one."
                ),
            },
        )
        return [account, personal, segment]

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        context["may_view_personal_data"] = may_view_personal_data(request.user)
        member = context.get("original")
        context["member_panels"] = member_panels(request, member) if member is not None else []
        return super().render_change_form(request, context, *args, **kwargs)

    def save_model(self, request: HttpRequest, obj: MemberAccount, form: Any, change: bool) -> None:
        actor = Actor.from_request(request)
        values = form.service_values()
        if change:
            if values:
                adopt(obj, services.member_update(member=obj, values=values, actor=actor))
            return
        partner = form.cleaned_data["partner"]
        adopt(obj, services.member_create(partner=partner, values=values, actor=actor))

    def get_urls(self) -> list[URLPattern]:
        return [object_page_url(self, "reveal", self.reveal_view), *super().get_urls()]

    def reveal_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET asks for confirmation; POST decrypts, records the view and shows the data."""
        member = personal_data_object(
            self, request, object_id, missing=gettext("No such member account.")
        )
        change_url = reverse("admin:partners_memberaccount_change", args=[member.pk])
        if member.status == MemberAccount.Status.ERASED:
            messages.info(
                request, gettext("This member has been erased: there is no personal data.")
            )
            return HttpResponseRedirect(change_url)
        personal = None
        if request.method == "POST":
            sealed = MemberAccount.objects.select_related("partner").get(pk=member.pk)
            actor = Actor.from_request(request)
            try:
                values = services.member_reveal(
                    member=sealed, actor=actor, purpose="admin detail view"
                )
            except pii.UndecryptableError as exc:
                # Not erased (that is handled above): altered, copied or under a removed key.
                services.audit_undecryptable(
                    error=exc,
                    actor=actor,
                    partner=sealed.partner,
                    detail={"request": "admin detail view"},
                )
                # The reason (which column, which key) is for the operator: kept as logged.
                messages.error(
                    request,
                    gettext("The personal data could not be read: %(reason)s") % {"reason": exc},
                )
                return HttpResponseRedirect(change_url)
            personal = [(PERSONAL_LABELS[name], values.get(name)) for name in pii.PERSONAL_FIELDS]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": member,
            "title": gettext("Personal data of member %(number)s")
            % {"number": member.member_number},
            "personal": personal,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/partners/memberaccount/reveal.html", context)

    @admin.action(description=_("Deactivate the selected members"), permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[MemberAccount]) -> None:
        _each_member(
            request,
            queryset,
            services.member_deactivate,
            lambda count: (
                ngettext(
                    "Deactivated %(count)d member account.",
                    "Deactivated %(count)d member accounts.",
                    count,
                )
                % {"count": count}
            ),
        )

    @admin.action(
        description=_("Erase the personal data of the selected members (final)"),
        permissions=["change"],
    )
    def erase(self, request: HttpRequest, queryset: QuerySet[MemberAccount]) -> Any:
        if request.POST.get("post") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": gettext("Erase personal data?"),
                "members": queryset,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(
                request, "admin/partners/memberaccount/erase_selected_confirmation.html", context
            )
        _each_member(
            request,
            queryset,
            services.member_erase,
            lambda count: (
                ngettext(
                    "Erased the personal data of %(count)d member account.",
                    "Erased the personal data of %(count)d member accounts.",
                    count,
                )
                % {"count": count}
            ),
        )
        return None


@admin.register(Person)
class PersonAdmin(CsvExportMixin, ReadOnlyAdmin):
    """Who the matching believes is one human: no personal data, only how many accounts."""

    list_display = ["id", "created_at", "account_count"]
    csv_fields = ["id", "created_at", "account_count"]
    fields = ["id", "created_at", "account_count"]
    readonly_fields = ["id", "created_at", "account_count"]
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Person]:
        # A correlated count, computed for the rows of one page rather than grouped over all.
        accounts = (
            MemberAccount.objects.filter(person=OuterRef("pk"))
            .order_by()
            .values("person")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(account_count=Coalesce(Subquery(accounts, output_field=IntegerField()), 0))
        )

    @admin.display(description=_("accounts"))
    def account_count(self, obj: Any) -> int:
        return int(obj.account_count)
