# Belgian conventions, whatever the language of the interface: the same as in French.
from mass.i18n.formats.fr.formats import *  # noqa: F403
