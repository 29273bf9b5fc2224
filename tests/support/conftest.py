"""Fixtures for the victim-support tests: a full case team, a victim and the victim's support file."""

import pytest

from support import services as support
from tests.factories import full_team, person


@pytest.fixture
def t():
    return full_team()


@pytest.fixture
def victim(t):
    return person(t.case, pseudonym="V-1", actor=t.lead)


@pytest.fixture
def sfile(t, victim):
    return support.support_file_open(case=t.case, person=victim, actor=t.support, assigned_worker=t.support)
