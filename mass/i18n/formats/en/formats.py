# Belgian conventions for dates and times (as in French), English separators in numbers.
from mass.i18n.formats.fr.formats import *  # noqa: F403

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
