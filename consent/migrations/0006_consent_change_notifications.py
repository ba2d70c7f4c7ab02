"""PostgreSQL tells every process's consent-check cache what changed (consent.check_cache):
triggers NOTIFY ``sanpo_consent`` with ``m:<member id>`` for a member's consent states or
status, and ``*`` for partners, notices, and truncations. Nothing to do on SQLite, which has no
cache."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION sanpo_consent_notify_state() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_notify('sanpo_consent', 'm:' || OLD.member_id::text);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM pg_notify('sanpo_consent', 'm:' || NEW.member_id::text);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION sanpo_consent_notify_member() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('sanpo_consent', 'm:' || OLD.id::text);
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION sanpo_consent_notify_all() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('sanpo_consent', '*');
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER sanpo_consent_state_changed
    AFTER INSERT OR UPDATE OR DELETE ON consent_consentstate
    FOR EACH ROW EXECUTE FUNCTION sanpo_consent_notify_state();
CREATE TRIGGER sanpo_consent_member_status_changed
    AFTER UPDATE OF status ON partners_memberaccount
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION sanpo_consent_notify_member();
CREATE TRIGGER sanpo_consent_member_deleted
    AFTER DELETE ON partners_memberaccount
    FOR EACH ROW EXECUTE FUNCTION sanpo_consent_notify_member();
CREATE TRIGGER sanpo_consent_partner_status_changed
    AFTER UPDATE OF status OR DELETE ON partners_partner
    FOR EACH STATEMENT EXECUTE FUNCTION sanpo_consent_notify_all();
CREATE TRIGGER sanpo_consent_notice_changed
    AFTER INSERT OR UPDATE OR DELETE ON consent_privacynotice
    FOR EACH STATEMENT EXECUTE FUNCTION sanpo_consent_notify_all();
"""
TRUNCATED = [
    "consent_consentstate",
    "partners_memberaccount",
    "partners_partner",
    "consent_privacynotice",
]
FORWARD += "".join(
    f"CREATE TRIGGER sanpo_consent_truncated AFTER TRUNCATE ON {table} "
    "FOR EACH STATEMENT EXECUTE FUNCTION sanpo_consent_notify_all();\n"
    for table in TRUNCATED
)

BACKWARD = (
    """
DROP TRIGGER IF EXISTS sanpo_consent_state_changed ON consent_consentstate;
DROP TRIGGER IF EXISTS sanpo_consent_member_status_changed ON partners_memberaccount;
DROP TRIGGER IF EXISTS sanpo_consent_member_deleted ON partners_memberaccount;
DROP TRIGGER IF EXISTS sanpo_consent_partner_status_changed ON partners_partner;
DROP TRIGGER IF EXISTS sanpo_consent_notice_changed ON consent_privacynotice;
"""
    + "".join(
        f"DROP TRIGGER IF EXISTS sanpo_consent_truncated ON {table};\n" for table in TRUNCATED
    )
    + """
DROP FUNCTION IF EXISTS sanpo_consent_notify_state();
DROP FUNCTION IF EXISTS sanpo_consent_notify_member();
DROP FUNCTION IF EXISTS sanpo_consent_notify_all();
"""
)


def _run(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0005_data_subject_requests"),
        ("partners", "0002_member_bases"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
