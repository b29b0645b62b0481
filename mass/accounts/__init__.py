"""Staff and what they may do: the roles and their permissions (``roles``), the login form
(``forms_auth``), the second factor, breached passwords and session lifetime (``security``,
``security_services``, ``security_views``), and the demo accounts (``demo``).

The ``User`` model stays in ``mass.models`` (app label ``mass``): see docs/style.md, "Layout"."""
