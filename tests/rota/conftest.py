"""People of both staff groups, for the rota and welfare tests."""

from __future__ import annotations

import pytest

from haven.accounts.roles import Role
from tests.equipment.helpers import supervisor, technician
from tests.factories import UserFactory


@pytest.fixture
def officer():
    return UserFactory(roles=[Role.PROTECTION_OFFICER], first_name="Olive")


@pytest.fixture
def colleague():
    return UserFactory(roles=[Role.PROTECTION_OFFICER], first_name="Colin")


@pytest.fixture
def manager():
    return UserFactory(roles=[Role.PROTECTION_MANAGER], first_name="Mona")


@pytest.fixture
def tech():
    return technician(first_name="Tess")


@pytest.fixture
def boss():
    return supervisor(first_name="Boris")
