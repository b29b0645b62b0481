"""`make run` prints the demo accounts with the language each opens in, and names those that
open in Dutch (the nurse and the psychiatrist), issue 14."""

import pytest

from mass.accounts.demo import DEMO_STAFF, accounts_text, seed_staff
from mass.models import User

pytestmark = pytest.mark.django_db


def test_the_account_list_says_which_accounts_open_in_dutch():
    lines = accounts_text(seed_staff())
    dutch = sorted(username for username, *_rest, language in DEMO_STAFF if language == "nl")
    assert dutch == ["nurse", "psychiatrist"]
    assert sorted(User.objects.filter(language="nl").values_list("username", flat=True)) == dutch
    by_account = {line.split()[0]: line for line in lines if line.startswith("  ")}
    assert set(by_account) == {username for username, *_rest in DEMO_STAFF}
    for username in dutch:
        assert by_account[username].endswith("opens in Dutch")
    assert by_account["reception"].endswith("opens in French")
    assert lines[-1].startswith("Open in Dutch: nurse, psychiatrist")
