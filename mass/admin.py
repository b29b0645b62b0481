# The application has no Django admin: staff, roles and sites are managed in its own pages,
# where every change is audited (docs/style.md: the admin is for reference data only).
