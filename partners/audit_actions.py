"""The catalogue of audit actions.

Each app declares its actions as a ``TextChoices`` (code and label) and registers them from
``AppConfig.ready`` with ``register_audit_actions``, as webhook event types are registered, so a
feature adds its actions without a partners migration. ``audit_record`` refuses an action that
nobody registered.
"""

from django.db import models
from django.utils.functional import Promise

# Labels stay lazy (``gettext_lazy``): each page reads them in its reader's language.
AUDIT_ACTIONS: dict[str, str | Promise] = {}


def register_audit_actions(actions: type[models.TextChoices]) -> None:
    labels = {str(action.value): action.label for action in actions}
    clashes = set(labels) & set(AUDIT_ACTIONS)
    if clashes:
        raise ValueError(f"Audit actions registered twice: {sorted(clashes)}")
    AUDIT_ACTIONS.update(labels)


def audit_action_label(code: str) -> str:
    """The label of a registered action, in the active language; an action no longer
    registered shows its code."""
    return str(AUDIT_ACTIONS.get(code, code))
