import pytest
from django.db import OperationalError

from backorders.services.locking import retrying_atomic


class _PgError(Exception):
    def __init__(self, sqlstate):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _lost_race(sqlstate):
    error = OperationalError("lost a race")
    error.__cause__ = _PgError(sqlstate)
    return error


@pytest.mark.django_db(transaction=True)
def test_deadlock_and_serialization_failures_are_retried_a_bounded_number_of_times(settings):
    settings.BACKORDERS = {"TRANSACTION_RETRIES": 3}
    calls = []

    @retrying_atomic
    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise _lost_race("40P01" if len(calls) == 1 else "40001")
        return "done"

    assert flaky() == "done"
    assert len(calls) == 3

    @retrying_atomic
    def always_deadlocks():
        calls.append(1)
        raise _lost_race("40P01")

    calls.clear()
    with pytest.raises(OperationalError):
        always_deadlocks()
    assert len(calls) == 3


@pytest.mark.django_db(transaction=True)
def test_other_database_errors_are_not_retried():
    calls = []

    @retrying_atomic
    def broken():
        calls.append(1)
        raise _lost_race("42P01")  # undefined table: a bug, not a race

    with pytest.raises(OperationalError):
        broken()
    assert calls == [1]
