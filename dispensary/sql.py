"""The dispensary's hand-written SQL: every statement the ORM cannot say, each with its
reason (docs/style.md, "Where SQL lives")."""

from django.db import connection

from dispensary.models import Product


def product_share_lock(*, product_id: int) -> None:
    """Lock the product's row FOR SHARE until the transaction ends: other prescriptions and
    dispensations of the product go on together, a change of the product waits for them.
    SQL: Django's ``select_for_update`` says FOR UPDATE and FOR NO KEY UPDATE only, never
    FOR SHARE."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {Product._meta.db_table} WHERE id = %s FOR SHARE",
                       [product_id])
