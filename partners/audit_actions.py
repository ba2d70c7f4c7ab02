"""The catalogue of audit actions.

Each app declares its actions as a ``TextChoices`` (code and label) and registers them from
``AppConfig.ready`` with ``register_audit_actions``, as webhook event types are registered, so a
feature adds its actions without a partners migration. ``audit_record`` refuses an action that
nobody registered.
"""

from django.db import models

AUDIT_ACTIONS: dict[str, str] = {}


def register_audit_actions(actions: type[models.TextChoices]) -> None:
    labels = {str(action.value): str(action.label) for action in actions}
    clashes = set(labels) & set(AUDIT_ACTIONS)
    if clashes:
        raise ValueError(f"Audit actions registered twice: {sorted(clashes)}")
    AUDIT_ACTIONS.update(labels)


def audit_action_label(code: str) -> str:
    """The label of a registered action; an action no longer registered shows its code."""
    return AUDIT_ACTIONS.get(code, code)
