from django.db import migrations

# The catalogue of purposes; codes are stable and named by consents and features.
PURPOSES = [
    (
        "cross_enrollment",
        "相互会員登録",
        "Cross-enrollment",
        "提携先の会員プログラムへの登録のため、同意した項目を提携先に提供します。",
        "Providing the items you agreed to a partner so you can join its member programme.",
    ),
    (
        "profile_sharing",
        "会員情報の共有",
        "Profile sharing",
        "提携先があなたに合ったサービスを提供するため、同意した会員情報を共有します。",
        "Sharing the profile items you agreed to so a partner can tailor its service to you.",
    ),
    (
        "co_marketing_contact",
        "共同販促のご案内",
        "Co-marketing contact",
        "提携先からキャンペーンや特典のご案内をお送りします。",
        "A partner may contact you about joint campaigns and offers.",
    ),
    (
        "coin_exchange",
        "コインの交換・利用",
        "Coin exchange",
        "提携先でコインを貯めたり使ったりするため、取引情報を共有します。",
        "Sharing transaction details so you can earn and spend coins at a partner.",
    ),
    (
        "referral_tracking",
        "紹介の記録",
        "Referral tracking",
        "どの会社からの紹介でご入会いただいたかを記録し、紹介料を精算します。",
        "Recording which company referred you, to settle referral fees between companies.",
    ),
    (
        "sampling_shipment",
        "サンプルのお届け",
        "Sampling shipment",
        "提携先の試供品をお届けするため、お届け先を提供します。",
        "Providing your delivery address so a partner's trial product can be sent to you.",
    ),
    (
        "research_survey",
        "アンケート調査",
        "Research survey",
        "提携先の商品についてのアンケートにご協力いただきます。結果は集計値のみ提携先に渡ります。",
        "Asking you about a partner's product; the partner only receives aggregated results.",
    ),
    (
        "overlap_matching",
        "会員の重複確認",
        "Overlap matching",
        "提携を検討する会社間で、共通の会員数を個人を特定しない形で集計します。",
        "Counting, without identifying anyone, how many members two companies have in common.",
    ),
]


def seed(apps, schema_editor):
    Purpose = apps.get_model("consent", "Purpose")
    for code, name_ja, name_en, description_ja, description_en in PURPOSES:
        Purpose.objects.update_or_create(
            code=code,
            defaults={
                "name_ja": name_ja,
                "name_en": name_en,
                "description_ja": description_ja,
                "description_en": description_en,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_consent_record")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
