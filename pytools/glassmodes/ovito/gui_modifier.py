"""OVITO Pro: the glassmodes mode modifier as a Python script modifier.

In OVITO Pro (3.9 or later), with glassmodes installed in OVITO's own Python interpreter
(``ovitos -m pip install /path/to/glassmodes``): Add modification -> Python script, then load this
file into the modifier's code editor (or paste the lines below) and commit. OVITO Pro finds the
class and shows its parameters: mode file, mode index k, selection fraction, arrows, centering,
animation, and the arrows' visual element. Details: docs/ovito.md.
"""

from glassmodes.ovito.modifier import ModeModifier


class GlassmodesMode(ModeModifier):
    """Attach a normal mode of a glassmodes mode file to the particles (matched by atom ID)."""
