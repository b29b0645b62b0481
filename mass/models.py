from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import BigIntegerRangeField, DateRangeField, RangeOperators
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Func, Q, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_otp.plugins.otp_static.models import StaticDevice

from mass.database.triggers import AppendOnly


class User(AbstractUser):
    """A member of staff. Roles are the Django groups of ``mass.accounts.roles.Role``."""

    language = models.CharField(
        _("language"), max_length=2, choices=settings.LANGUAGES, blank=True,
        help_text=_("Language of the interface, remembered between sessions."),
    )
    # Changed whenever the account's rights change (deactivation, roles, password reset): it
    # is part of the session hash, so every open session of the account ends at once.
    security_stamp = models.PositiveIntegerField(default=0, editable=False)
    # Set when a coordinator chose the password (new account, reset): only its owner should
    # know it, so it is changed at the next login (mass.middleware.PasswordChangeRequired...).
    must_change_password = models.BooleanField(
        _("must change password"), default=False, editable=False)
    # When a coordinator last reset the password: a lost outreach device's holder no longer
    # knows it, so the member may register a new device at once (outreach.services).
    password_reset_at = models.DateTimeField(_("password reset at"), null=True, blank=True,
                                             editable=False)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["last_name", "first_name", "username"]
        permissions = [("manage_staff", _("Can manage staff accounts and roles"))]

    def get_session_auth_hash(self):
        from django.utils.crypto import salted_hmac
        return salted_hmac(
            "mass.User.get_session_auth_hash",
            f"{self.password}:{self.security_stamp}",
            algorithm="sha256",
        ).hexdigest()

    def __str__(self):
        return self.get_full_name() or self.username

    @property
    def is_reception_lead(self) -> bool:
        """A member of reception given the right to merge duplicate files on their own
        account (coordinators have it through their role)."""
        if self.pk is None:
            return False
        return self.user_permissions.filter(content_type__app_label="patients",
                                            codename="merge_patient").exists()

    @property
    def role_names(self) -> list[str]:
        from mass.accounts.roles import user_roles
        return [role.label for role in user_roles(self)]


class CancellableQuerySet(models.QuerySet):
    """Records that a ``Cancellation`` (related name ``cancellation``) may cancel."""

    def standing(self):
        """The records not cancelled: what the figures, the counts and the lists use."""
        return self.filter(cancellation__isnull=True)


class Cancellation(models.Model):
    """A record entered by mistake (the wrong file, a double entry) cancelled with a reason:
    who, when, why. The record itself stays as it was; from then on it is shown struck
    through and counts nowhere. One per record (a one-to-one field in each subclass), and
    append-only in the database (``Meta.triggers``, inherited): a cancellation is never undone
    nor edited."""

    reason = models.CharField(_("reason"), max_length=500)
    cancelled_at = models.DateTimeField(_("cancelled at"), default=timezone.now)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("cancelled by"))

    class Meta:
        triggers = [AppendOnly()]
        abstract = True
        ordering = ["-cancelled_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""),
                                   name="%(app_label)s_%(class)s_reason_set"),
        ]


class Site(models.Model):
    """A place where a contact can happen: the centre itself or an outreach place."""

    class Kind(models.TextChoices):
        CENTRE = "centre", _("MASS centre")
        SHELTER = "shelter", _("Shelter")
        HOTEL = "hotel", _("Hotel")
        CRISIS_HOUSING = "crisis_housing", _("Crisis housing")
        PARTNER = "partner", _("Partner premises")
        STREET = "street", _("Street")
        HOME = "home", _("Patient's home")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    address = models.CharField(_("address"), max_length=250, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # A shelter or the street may be reached on a holiday; the centre closes on them
    # (mass.sites.selectors.site_calendar).
    closed_on_public_holidays = models.BooleanField(
        _("closed on Belgian public holidays"), default=True)

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["-kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["centre", "shelter", "hotel", "crisis_housing",
                                             "partner", "street", "home", "other"]),
                name="mass_site_kind_valid",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_outreach(self) -> bool:
        return self.kind != self.Kind.CENTRE


class OpeningHours(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["site", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=models.Q(opens__lt=models.F("closes")),
                                   name="mass_openinghours_opens_before_closes"),
            models.CheckConstraint(condition=models.Q(weekday__lte=6),
                                   name="mass_openinghours_weekday_valid"),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class SiteClosure(models.Model):
    """A one-off closure of a site, from its first to its last day (both closed): a strike,
    a staff day, works. Weekly closed days are the weekdays without opening hours and
    public holidays come from the ``holidays`` package: neither is typed here."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="closures",
                             verbose_name=_("site"))
    first_day = models.DateField(_("first closed day"))
    last_day = models.DateField(_("last closed day"))
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("recorded by"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        ordering = ["site", "first_day"]
        constraints = [
            models.CheckConstraint(condition=models.Q(last_day__gte=models.F("first_day")),
                                   name="mass_siteclosure_last_after_first"),
            models.CheckConstraint(condition=~models.Q(reason=""),
                                   name="mass_siteclosure_reason_set"),
            # Two closures of a site never overlap (two coordinators saving at once
            # included). The site as a one-value range rather than ``site_id WITH =``: a
            # range's GiST operator class is built in, ``=`` on an integer would need the
            # btree_gist extension, which docs/interfaces.md does not ask of a database.
            ExclusionConstraint(
                name="mass_siteclosure_no_overlap",
                expressions=[
                    (Func(F("site"), F("site"), Value("[]"), function="int8range",
                          output_field=BigIntegerRangeField()), RangeOperators.OVERLAPS),
                    (Func(F("first_day"), F("last_day"), Value("[]"), function="daterange",
                          output_field=DateRangeField()), RangeOperators.OVERLAPS),
                ],
            ),
        ]

    def __str__(self):
        return f"{self.site}: {self.first_day:%Y-%m-%d} – {self.last_day:%Y-%m-%d}"


class AuditEvent(models.Model):
    """Who did what, when, from where, to which patient. Append-only: the database refuses
    UPDATE and DELETE on this table (the ``AppendOnly`` rule in Meta), but for sealing a
    row into the hash chain once (``mass.audit.chain``)."""

    class Action(models.TextChoices):
        LOGIN = "login", _("Login")
        LOGOUT = "logout", _("Logout")
        LOGIN_FAILED = "login_failed", _("Failed login")
        VIEW = "view", _("View")
        SEARCH = "search", _("Search")
        CREATE = "create", _("Create")
        UPDATE = "update", _("Update")
        EXPORT = "export", _("Export")
        MERGE = "merge", _("Merge")
        # "Cancel" as a noun among the actions, not the button: its own translation.
        CANCEL = "cancel", pgettext_lazy("audit action", "Cancel")

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+", verbose_name=_("by"))
    # Kept as typed so that a failed login with an unknown name still says who was tried.
    username = models.CharField(_("username"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+", verbose_name=_("patient"))
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    # The summary as a code and its parameters, rendered in the reader's language
    # (mass.audit.summaries.summary_render); empty on rows written before (shown as stored).
    summary_code = models.CharField(_("summary code"), max_length=300, blank=True, default="")
    summary_params = models.JSONField(_("summary parameters"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    # Set once by the sealer (mass.audit.chain.audit_seal), never by the request that wrote
    # the row: its place in the hash chain and the chain's hash up to it. The append-only
    # rule (Meta.triggers) allows exactly this update, from empty, and nothing else.
    chain_position = models.BigIntegerField(_("chain position"), null=True, blank=True,
                                            unique=True, editable=False)
    # NULL, not "": unsealed is no value, and the append-only rule tests IS NULL.
    chain_hash = models.CharField(_("chain hash"), max_length=64, null=True, blank=True,  # noqa: DJ001
                                  editable=False)

    class Meta:
        # Append-only but for the one update that seals a row into the hash chain
        # (mass.audit.chain): chain_position and chain_hash, both empty until then, filled; a
        # sealed row is never changed again, not even its hash.
        triggers = [AppendOnly(updatable=["chain_position", "chain_hash"], update_only_if="""
            OLD.chain_position IS NULL AND OLD.chain_hash IS NULL
            AND NEW.chain_position IS NOT NULL AND NEW.chain_hash IS NOT NULL""")]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [
            # "Who read this file": audit_for_patient() filters on patient, newest first.
            models.Index(fields=["patient", "-at"], name="mass_audit_patient_at"),
            # The audit page filtered on a staff member.
            models.Index(fields=["actor", "-at"], name="mass_audit_actor_at"),
            # "Who read this file" also finds the list pages that named the patient:
            # details @> '{"patients": [id]}' (mass.audit.audit_list_read).
            GinIndex(fields=["details"], opclasses=["jsonb_path_ops"],
                     name="mass_audit_details_gin"),
        ]
        constraints = [
            # A row given position 0 or less would be neither unsealed nor walked by
            # verify_audit (positions start at 1): hidden from the check.
            models.CheckConstraint(
                condition=Q(chain_position__isnull=True) | Q(chain_position__gt=0),
                name="mass_audit_chain_position_positive"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.summary}"

    def get_absolute_url(self):
        return reverse("audit_list") + f"?id={self.pk}"


class RecoveryCodeDevice(StaticDevice):
    """django-otp's static device (single-use codes, throttled after failures) whose tokens
    are stored as keyed hashes (mass.accounts.security.recovery_code_digest), never the codes
    themselves: the codes are shown once, when made."""

    class Meta:
        proxy = True

    def verify_token(self, token):
        from django.utils.crypto import constant_time_compare

        from mass.accounts.security import recovery_code_digests

        verify_allowed, _ = self.verify_is_allowed()
        if not verify_allowed:
            return False
        candidates = recovery_code_digests(token, device_pk=self.pk)
        # At most ten rows: each is compared in constant time, none is looked up by value.
        match = next((stored for stored in self.token_set.all()
                      if any(constant_time_compare(stored.token, c) for c in candidates)),
                     None)
        if match is None:
            self.throttle_increment()
            return False
        match.delete()
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class RoleGrant(models.Model):
    """A clinical role asked for an account, waiting for a second person (issue 13: two people
    to open the secret). The role is given only when someone other than the requester approves
    (``mass.services.role_grant_decide``). Written once when asked and once when decided,
    never deleted; the database keeps a decision whole (who, when, which way)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="role_grants", verbose_name=_("account"))
    role = models.CharField(_("role"), max_length=20)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("requested by"))
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    approved = models.BooleanField(_("approved"), null=True, blank=True)

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        ordering = ["requested_at", "id"]
        constraints = [
            # One open request per account and role: asking again does not add a second.
            models.UniqueConstraint(fields=["user", "role"],
                                    condition=models.Q(decided_at__isnull=True),
                                    name="mass_rolegrant_one_pending"),
            models.CheckConstraint(
                condition=(models.Q(decided_by__isnull=True, decided_at__isnull=True,
                                    approved__isnull=True)
                           | models.Q(decided_by__isnull=False, decided_at__isnull=False,
                                      approved__isnull=False)),
                name="mass_rolegrant_decision_complete"),
        ]

    def __str__(self):
        return f"{self.role} for {self.user.username}"

    @property
    def role_label(self):
        from mass.accounts.roles import Role
        return Role(self.role).label
