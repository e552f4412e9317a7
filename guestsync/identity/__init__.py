"""Identity resolution: which golden guest a source record belongs to. Pure: no I/O.

The store looks candidates up by the blocking keys from `keys_for`; `choose` decides among
them; `golden` recomputes a guest's profile from all of its linked source records.
"""

from .keys import keys_for
from .resolver import choose, names_compatible
from .survivorship import golden

__all__ = ["choose", "golden", "keys_for", "names_compatible"]
