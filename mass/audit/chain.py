"""The audit trail made tamper-evident: a hash chain over its rows, added after the fact.

Rows are written by ``mass.audit`` without any chain work, so that no request waits for
another on the audit table. ``audit_seal`` (``manage.py seal_audit``, every few minutes from
cron) then links the committed rows not yet sealed, in id order, each to the one before:

    chain_hash(n) = sha256(chain_hash(n-1) || canonical(row n, including row n-1's id))

and gives each its ``chain_position`` (1, 2, 3... with no gap: the sealer numbers them itself).
The database lets a row be updated once, from unsealed to sealed, with nothing else changing
(its ``AppendOnly`` rule in ``AuditEvent.Meta.triggers``). A row committed late (a long
transaction took its id before rows sealed since) is sealed at the end of the chain: the
chain follows the sealing order, which is the position, not the id; a gap in ids is no break
(a rolled-back transaction skips ids).

``audit_verify`` recomputes the chain and names the first row where it breaks: an edited row
no longer gives its hash, a deleted row leaves a gap in the positions and the next row's hash
names an id that is no longer there. Someone able to rewrite the whole chain (a database
superuser) is caught by the digest kept outside the database (``audit_digest``): the last
sealed id, its hash and the count, which the chain must still contain later on.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC

from django.db import connection, transaction

from mass.models import AuditEvent

# Two sealers (cron overlapping a verify_audit) take this transaction-scoped advisory lock, so
# that the second waits and then continues the chain the first one wrote.
SEAL_LOCK_KEY = 0x4D415353_0D17  # "MASS" + audit

SEAL_BATCH_SIZE = 1000

#: The hash before the first row.
GENESIS_HASH = "0" * 64

# The fields a row is born with: everything the hash covers. A new field of AuditEvent must
# be added here (and a test fails until it is: test_every_field_is_in_the_chain).
CHAINED_FIELDS = ("id", "at", "actor_id", "username", "action", "ip_address", "patient_id",
                  "object_type", "object_id", "summary", "details", "summary_code",
                  "summary_params")
# Fields added after rows were sealed: in the hash only when the row has them, so that the
# rows sealed before keep their hash (summary_code, issue 14).
LATER_FIELDS = {"summary_code": "", "summary_params": None}
CHAIN_FIELDS = ("chain_position", "chain_hash")


def audit_row_canonical(row: AuditEvent, *, position: int, previous_id: int | None) -> bytes:
    """One row as bytes that do not depend on Python or PostgreSQL versions: sorted JSON,
    the time in UTC to the microsecond, plus its place in the chain and the previous id."""
    values = {name: getattr(row, name) for name in CHAINED_FIELDS}
    # Each later field is left out only at its "absent" value, so that any value written
    # into it afterwards is covered.
    for name, absent in LATER_FIELDS.items():
        if values[name] == absent:
            del values[name]
    values["at"] = row.at.astimezone(UTC).isoformat(timespec="microseconds")
    values["position"] = position
    values["previous_id"] = previous_id
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str).encode()


def audit_row_hash(row: AuditEvent, *, position: int, previous_id: int | None,
                   previous_hash: str) -> str:
    digest = hashlib.sha256(previous_hash.encode("ascii"))
    digest.update(audit_row_canonical(row, position=position, previous_id=previous_id))
    return digest.hexdigest()


def _chain_head():
    """The last sealed row (position, id, hash), or the genesis."""
    head = (AuditEvent.objects.filter(chain_position__isnull=False)
            .order_by("-chain_position").values_list("chain_position", "id", "chain_hash")
            .first())
    return head or (0, None, GENESIS_HASH)


def audit_seal(*, batch_size: int = SEAL_BATCH_SIZE) -> int:
    """Seal every committed row not yet sealed; return how many were sealed. One
    transaction, under the advisory lock: a second sealer waits, then finds nothing left."""
    sealed = 0
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK_KEY])
        position, previous_id, previous_hash = _chain_head()
        while True:
            batch = list(AuditEvent.objects.filter(chain_position__isnull=True)
                         .order_by("id")[:batch_size])
            if not batch:
                return sealed
            for row in batch:
                position += 1
                row.chain_position = position
                row.chain_hash = audit_row_hash(row, position=position,
                                                previous_id=previous_id,
                                                previous_hash=previous_hash)
                previous_id, previous_hash = row.id, row.chain_hash
            AuditEvent.objects.bulk_update(batch, CHAIN_FIELDS)
            sealed += len(batch)


@dataclass
class ChainBreak:
    position: int
    row_id: int | None
    reason: str

    def __str__(self):
        where = f"row {self.row_id}" if self.row_id is not None else "no row"
        return f"chain broken at position {self.position} ({where}): {self.reason}"


@dataclass
class ChainReport:
    sealed: int = 0
    unsealed: int = 0
    last_id: int | None = None
    last_hash: str = GENESIS_HASH
    first_break: ChainBreak | None = None


def audit_verify(*, batch_size: int = SEAL_BATCH_SIZE) -> ChainReport:
    """Walk the sealed rows by position, recompute each hash from the row as it is now and
    stop at the first break. Unsealed rows are counted, not a break: sealing is periodic.
    Read in one REPEATABLE READ snapshot so that a sealer running meanwhile cannot make a
    sound chain look broken."""
    report = ChainReport()
    expected_position, previous_id, previous_hash = 1, None, GENESIS_HASH
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:  # inside a caller's transaction (a test) its snapshot rules
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        report.unsealed = AuditEvent.objects.filter(chain_position__isnull=True).count()
        after = 0
        while report.first_break is None:
            batch = list(AuditEvent.objects.filter(chain_position__gt=after)
                         .order_by("chain_position")[:batch_size])
            if not batch:
                break
            for row in batch:
                report.first_break = _check_row(row, expected_position, previous_id,
                                                previous_hash)
                if report.first_break:
                    break
                report.sealed += 1
                expected_position += 1
                previous_id, previous_hash = row.id, row.chain_hash
            after = batch[-1].chain_position
        report.last_id, report.last_hash = previous_id, previous_hash
    return report


def _check_row(row, expected_position, previous_id, previous_hash) -> ChainBreak | None:
    if row.chain_position != expected_position:
        return ChainBreak(expected_position, None,
                          f"row(s) missing: the next sealed row is row {row.id} at position "
                          f"{row.chain_position} (deleted after sealing)")
    if row.chain_hash != audit_row_hash(row, position=row.chain_position,
                                        previous_id=previous_id,
                                        previous_hash=previous_hash):
        # The hash covers the row, its position and the previous row's id and hash: a
        # mismatch is this row edited, or the row before it deleted and the positions
        # renumbered to hide the gap (which needs the trigger disabled, as an edit does).
        return ChainBreak(row.chain_position, row.id,
                          "hash mismatch: the row was changed after sealing, or a row "
                          "sealed before it was removed and the positions renumbered")
    return None


def audit_digest(*, until=None) -> dict:
    """The chain's head to keep outside the database: the last row sealed at or before
    ``until`` (a datetime; default now), its hash and the number of rows chained up to it.
    A later ``verify_audit --expect ID:HASH`` checks that the chain still holds it."""
    rows = AuditEvent.objects.filter(chain_position__isnull=False)
    if until is not None:
        rows = rows.filter(at__lte=until)
    head = rows.order_by("-chain_position").values("id", "chain_position", "chain_hash",
                                                   "at").first()
    if head is None:
        return {"last_id": None, "count": 0, "hash": GENESIS_HASH, "last_at": None}
    return {"last_id": head["id"], "count": head["chain_position"], "hash": head["chain_hash"],
            "last_at": head["at"].astimezone(UTC).isoformat()}


def audit_chain_holds(*, row_id: int, chain_hash: str) -> bool:
    """Whether the chain still holds the row of an earlier digest with the same hash."""
    return AuditEvent.objects.filter(id=row_id, chain_hash=chain_hash).exists()
