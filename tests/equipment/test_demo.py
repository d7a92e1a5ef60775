import pytest

from haven.demo.accounts import create_demo_accounts
from haven.demo.operations import create_demo_operations
from haven.equipment.models import Asset, Deployment
from haven.rota.models import Rota

pytestmark = pytest.mark.django_db


def test_demo_operations_load_and_can_run_twice():
    create_demo_accounts()
    create_demo_operations()
    create_demo_operations()
    # The kit list's seven, and the covert Teltonika tracker (haven.demo.covert) with its fit.
    assert Asset.objects.filter(serial__startswith="DEMO-").count() == 8
    assert Deployment.objects.count() == 3 and Rota.objects.count() == 1
