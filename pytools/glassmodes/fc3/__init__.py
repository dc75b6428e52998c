"""Third- and fourth-order force constants written by the plugin's ``write_fc3``.

``read_fc3(path)`` returns a :class:`ForceConstants` whose contractions (``phi3(u)``,
``phi3(u, v)``, ``phi3(u, v, w)``, and ``phi4(...)`` for order-4 pair tables) cost O(records).
File format and formulas: docs/fc3.md.
"""

from glassmodes.fc3.files import Fc3FileError
from glassmodes.fc3.tensor import ForceConstants, local_range, read_fc3

__all__ = ["ForceConstants", "read_fc3", "local_range", "Fc3FileError"]
