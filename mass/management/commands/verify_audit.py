from django.core.management.base import BaseCommand, CommandError

from mass.audit.chain import audit_chain_holds, audit_seal, audit_verify


class Command(BaseCommand):
    help = ("Recompute the audit trail's hash chain and name the first break (a row edited, "
            "or deleted, after sealing). Exit status 1 on a break. Rows not yet sealed are "
            "counted, not a break. --seal seals them first; --expect ID:HASH (a digest kept "
            "outside the database) also checks that the chain still holds that row and hash.")

    def add_arguments(self, parser):
        parser.add_argument("--seal", action="store_true",
                            help="seal the rows not yet sealed before verifying")
        parser.add_argument("--expect", action="append", default=[], metavar="ID:HASH",
                            help="a row id and chain hash from an earlier audit_digest")

    def handle(self, *args, seal=False, expect=(), **options):
        expected = [self.parse_expected(value) for value in expect]
        if seal:
            self.stdout.write(f"{audit_seal()} audit row(s) sealed.")
        report = audit_verify()
        if report.first_break:
            raise CommandError(f"Audit trail NOT intact: {report.first_break}. "
                               f"{report.sealed} row(s) verified before it.")
        missing = [(row_id, chain_hash) for row_id, chain_hash in expected
                   if not audit_chain_holds(row_id=row_id, chain_hash=chain_hash)]
        if missing:
            names = ", ".join(f"row {row_id} ({chain_hash[:12]}…)"
                              for row_id, chain_hash in missing)
            raise CommandError(f"Audit trail NOT intact: the chain no longer holds {names} "
                               "from an earlier digest (the trail was rewritten).")
        self.stdout.write(f"Audit trail intact: {report.sealed} sealed row(s), last row "
                          f"{report.last_id}, hash {report.last_hash}; "
                          f"{report.unsealed} row(s) not yet sealed.")

    @staticmethod
    def parse_expected(value):
        row_id, _, chain_hash = value.partition(":")
        if not row_id.isdigit() or len(chain_hash) != 64:
            raise CommandError(f"--expect {value!r}: give ID:HASH as printed by audit_digest.")
        return int(row_id), chain_hash.lower()
