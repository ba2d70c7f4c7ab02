"""The database router without a replica (the ordinary suite): every read and write on the
primary, only the primary migrated. tests/test_replica.py runs the same code against a real
streaming replica."""

import pytest
from django.db import router, transaction

from federation.metrics.models import DailyFigure
from partners.db import PRIMARY, REPLICA, replica_alias, replica_configured
from partners.models import Partner
from tests.factories import make_partner


def test_without_a_replica_reporting_reads_use_the_primary() -> None:
    assert not replica_configured()
    assert replica_alias() == PRIMARY


@pytest.mark.parametrize("model", [Partner, DailyFigure])
def test_reads_and_writes_go_to_the_primary_unless_a_query_names_the_replica(
    model: type,
) -> None:
    assert router.db_for_read(model) == PRIMARY
    assert router.db_for_write(model) == PRIMARY


@pytest.mark.django_db
def test_a_row_read_from_the_replica_is_written_to_the_primary() -> None:
    partner = make_partner("kirari")
    partner._state.db = REPLICA  # as if read with .using(REPLICA)
    assert router.db_for_read(Partner, instance=partner) == REPLICA
    assert router.db_for_write(Partner, instance=partner) == PRIMARY
    with transaction.atomic():
        assert replica_alias() == PRIMARY


def test_only_the_primary_is_migrated() -> None:
    assert router.allow_migrate(PRIMARY, "federation", model_name="dailyfigure")
    assert not router.allow_migrate(REPLICA, "federation", model_name="dailyfigure")
    assert not router.allow_migrate(REPLICA, "partners")
