"""Last-write-wins retries: when a change is re-run, and how often."""

import pytest

from services.errors import VersionConflict
from services.transactions import VERSION_CONFLICT_ATTEMPTS, retry_on_version_conflict


def _losing(times: int, runs: list[bool]):
    """A change that loses the version race ``times`` times, recording its ``lock`` argument."""

    def change(lock: bool) -> str:
        runs.append(lock)
        if len(runs) <= times:
            raise VersionConflict("The record was modified concurrently.")
        return "saved"

    return change


def test_without_if_match_a_lost_race_is_re_run_with_the_row_locked():
    runs: list[bool] = []
    assert retry_on_version_conflict(_losing(1, runs), if_match=None) == "saved"
    assert runs == [False, True]


def test_with_if_match_a_lost_race_is_the_clients_412():
    runs: list[bool] = []
    with pytest.raises(VersionConflict):
        retry_on_version_conflict(_losing(1, runs), if_match={3})
    assert runs == [False]


def test_retries_are_bounded():
    runs: list[bool] = []
    with pytest.raises(VersionConflict):
        retry_on_version_conflict(_losing(10, runs), if_match=None)
    assert len(runs) == VERSION_CONFLICT_ATTEMPTS
