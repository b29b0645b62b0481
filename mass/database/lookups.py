"""``field__any=ids``: ``field = ANY(%s)`` with the ids as one array parameter, where
``field__in=ids`` writes one placeholder per id. For the busy lists that read something of
each of their hundreds of patients (the dispensing list's alerts and last QTc): Django then
builds, and PostgreSQL parses and plans, one parameter instead of 300 (a third of the
query's time in bench/dispensary.py). Registered on every field and foreign key by
MassConfig.ready()."""

from django.db.models import Field, ForeignObject, Lookup


class Any(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return "%s", [list(value)]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


def register() -> None:
    # Foreign keys take only the lookups of their own classes (ForeignObject.get_class_lookups).
    Field.register_lookup(Any)
    ForeignObject.register_lookup(Any)
