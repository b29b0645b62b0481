"""How the application is run: the settings (``mass.config.settings``, and
``mass.config.settings_test`` for the suite), the root URLs, the WSGI entry point, gunicorn's
configuration (``mass/config/gunicorn.conf.py``) and the logging filters. Nothing here holds a
rule of the centre."""
