"""The purposes of use members consent to, in Japanese and English: read-only (they are seeded
by migration and named in notices and agreements)."""

from django.contrib import admin
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from consent.admin.base import ConsentConsoleAdmin
from consent.models import Purpose


@admin.register(Purpose)
class PurposeAdmin(ConsentConsoleAdmin):
    list_display = [
        "code",
        "name_ja",
        "name_en",
        "description_ja_short",
        "description_en_short",
        "active",
    ]
    list_filter = ["active"]
    search_fields = ["code", "name_ja", "name_en", "description_ja", "description_en"]
    fieldsets = [
        (None, {"fields": ["code", "active"]}),
        (_("Japanese"), {"fields": ["name_ja", "description_ja"]}),
        (_("English"), {"fields": ["name_en", "description_en"]}),
    ]
    csv_fields = ["code", "name_ja", "name_en", "description_ja", "description_en", "active"]

    @admin.display(description=_("description (Japanese)"))
    def description_ja_short(self, obj: Purpose) -> str:
        return Truncator(obj.description_ja).chars(40)

    @admin.display(description=_("description (English)"))
    def description_en_short(self, obj: Purpose) -> str:
        return Truncator(obj.description_en).chars(60)
