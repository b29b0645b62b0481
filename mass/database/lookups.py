"""``field__any=ids``: ``field = ANY(%s)`` with the ids as one array parameter, where
``field__in=ids`` writes one placeholder per id. For the busy lists that read something of
each of their hundreds of patients (the dispensing list's alerts and last QTc): Django then
builds, and PostgreSQL parses and plans, one parameter instead of 300 (a third of the
query's time in bench/dispensary.py). Registered on integer fields and foreign keys by
MassConfig.ready()."""

from django.db.models import ForeignObject, IntegerField, Lookup


class Any(Lookup):
    """Values as ``__in`` takes them: model instances stand for their key, None matches
    nothing (as ``__in`` drops it: a NULL in the array would make NOT ANY unknown)."""

    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self):
        if hasattr(self.rhs, "resolve_expression"):
            raise TypeError("field__any takes values, not a queryset or an expression")
        return self.rhs

    def get_db_prep_lookup(self, value, connection):
        field = self.lhs.output_field
        values = [field.get_db_prep_value(getattr(item, "pk", item), connection)
                  for item in value if item is not None]
        return "%s", [values]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


def register() -> None:
    IntegerField.register_lookup(Any)  # the auto and big auto fields too
    # Foreign keys take only the lookups of their own classes (ForeignObject.get_class_lookups).
    ForeignObject.register_lookup(Any)
