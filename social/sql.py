"""The social app's hand-written SQL: every statement the ORM cannot say as well, each with
its reason (docs/style.md, "Where SQL lives")."""

import datetime

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet

from patients.models import Patient
from social.models import IncomeRecord


def _cohort_sql(patient_ids) -> tuple[str, list]:
    """SQL selecting the distinct patient ids of ``patient_ids`` (a queryset or ids)."""
    if isinstance(patient_ids, QuerySet):
        queryset = patient_ids
        if queryset.model is Patient and not queryset.query.values_select:
            queryset = queryset.values("pk")
        try:
            sql, params = queryset.order_by().query.sql_with_params()
        except EmptyResultSet:  # e.g. .none() or pk__in=[]: nobody
            return "SELECT NULL::bigint AS id WHERE false", []
        return f"SELECT DISTINCT cohort_source.id FROM ({sql}) AS cohort_source(id)", list(params)
    ids = sorted({int(pk) for pk in patient_ids})
    return "SELECT DISTINCT unnest(%s::bigint[]) AS id", [ids]


def income_sources_as_of(*, patient_ids, as_of: datetime.date) -> list[tuple[str, int]]:
    """(source, patients) rows: each patient of ``patient_ids`` (a queryset of patients or of
    one id column, or ids) once, under their latest income source recorded on or before
    ``as_of`` that no correction replaced, "unknown" when none.
    SQL: the latest row per patient by DISTINCT ON, counted in the same statement over a
    cohort given as any queryset (docs/benchmarks.md: the income distribution of 25,000
    patients, 65 ms in one query)."""
    cohort_sql, cohort_params = _cohort_sql(patient_ids)
    table = IncomeRecord._meta.db_table
    sql = f"""
        WITH cohort AS ({cohort_sql}),
        latest AS (
            SELECT DISTINCT ON (r.patient_id) r.patient_id, r.source
            FROM {table} r
            WHERE r.patient_id IN (SELECT id FROM cohort) AND r.date <= %s
              AND NOT EXISTS (SELECT 1 FROM {table} c WHERE c.corrects_id = r.id)
            ORDER BY r.patient_id, r.date DESC, r.id DESC
        )
        SELECT COALESCE(latest.source, 'unknown') AS source, count(*) AS n
        FROM cohort LEFT JOIN latest ON latest.patient_id = cohort.id
        GROUP BY 1
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*cohort_params, as_of])
        return cursor.fetchall()
