"""The three languages of the centre: the check that every message is translated (``check``),
the compiler of the catalogues run at set-up (``compile``), the messages of Django and its
packages the project translates itself (``third_party_strings``) and the date and number
formats (``formats``, the ``FORMAT_MODULE_PATH``). The catalogues are in locale/."""
