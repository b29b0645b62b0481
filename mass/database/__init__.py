"""PostgreSQL as this project uses it: the two database roles and the owner's connection
(``roles``), the rules declared on the models and installed as triggers (``triggers``), the
embedded server of development and tests (``embedded``, started by ``make`` and by the test
suite, never by importing the settings) and the pieces ``backup`` and ``restore`` share
(``backups``)."""
