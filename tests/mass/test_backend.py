"""What every page reads about its user in fewer queries: the permissions ModelBackend gives
and the roles with them, in one query (mass.accounts.backends.StaffBackend), and the menu's
addresses reversed once (mass.navigation)."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.urls import reverse

from mass.accounts.backends import StaffBackend
from mass.accounts.roles import Role, user_roles
from mass.models import User


def fresh(user):
    """The user as a request loads it: no permission or role read yet."""
    return User.objects.get(pk=user.pk)


@pytest.mark.parametrize("roles", [[Role.NURSE], [Role.RECEPTION, Role.SOCIAL_WORKER],
                                   [Role.COORDINATOR, Role.DOCTOR], []])
def test_the_permissions_are_model_backends(staff_factory, roles):
    user = staff_factory(*roles)
    user.user_permissions.add(Permission.objects.get(codename="view_site"))
    expected = ModelBackend().get_all_permissions(fresh(user))
    assert StaffBackend().get_all_permissions(fresh(user)) == expected
    assert "mass.view_site" in expected


def test_a_superuser_holds_every_permission_and_an_inactive_user_none(db):
    admin = User.objects.create(username="root", is_superuser=True)
    assert len(StaffBackend().get_all_permissions(fresh(admin))) == Permission.objects.count()
    gone = User.objects.create(username="gone", is_active=False)
    gone.user_permissions.add(Permission.objects.get(codename="view_site"))
    assert StaffBackend().get_all_permissions(fresh(gone)) == set()
    assert not fresh(gone).has_perm("mass.view_site")


def test_the_roles_come_with_the_permissions(staff_factory, django_assert_num_queries):
    user = fresh(staff_factory(Role.SOCIAL_WORKER, Role.PSYCHOLOGIST))
    with django_assert_num_queries(1):
        assert user.has_perm("social.view_socialaction")
        assert user_roles(user) == [Role.PSYCHOLOGIST, Role.SOCIAL_WORKER]
    assert not user.has_perm("dispensary.add_dispensation")


def test_a_role_taken_away_goes_at_the_next_request(client, staff_factory):
    user = staff_factory(Role.RECEPTION, Role.NURSE)
    client.force_login(user)
    assert client.get(reverse("dispensary:today")).status_code == 200
    user.groups.remove(user.groups.get(name=Role.NURSE))
    assert client.get(reverse("dispensary:today")).status_code == 403
    assert client.get(reverse("reception:board")).status_code == 200


def test_the_menu_addresses_are_reversed_once_and_follow_the_urlconf(settings, monkeypatch):
    """The menu's addresses are reversed once (mass.navigation), and again when the URLconf
    changes: a section whose app is not served leaves the menu. Outside a request, where the
    address's cache key names no URLconf of its own."""
    from mass import navigation
    from mass.config import urls

    section = next(s for s in navigation.SECTIONS if s.key == "reporting")
    navigation._url.cache_clear()
    reversed_names = []

    def counted(name, **kwargs):
        reversed_names.append(name)
        return reverse(name, **kwargs)

    monkeypatch.setattr(navigation, "reverse", counted)
    assert section.url == section.url == "/reporting/"
    assert reversed_names == ["reporting:index"]
    settings.ROOT_URLCONF = type("URLConf", (), {
        "urlpatterns": [p for p in urls.urlpatterns if str(p.pattern) != "reporting/"]})
    assert section.url is None
