"""glassmodes: vibrational and anharmonic physics of computer glasses.

The LAMMPS plugin (``glassmodesplugin.so``) writes Hessians and third-order force constants;
this package reads them and computes modes, localization, lifetimes and pictures.
"""

__version__ = "0.1.0"
