"""Readers and writers of the files the plugin and the toolkit exchange."""

from glassmodes.io.hessian import Hessian, read_hessian, write_hessian, read_petsc_aij
from glassmodes.io.atomic import atomic_output
from glassmodes.io.elastic_file import ElasticFile, read_elastic, write_elastic_file

__all__ = ["Hessian", "read_hessian", "write_hessian", "read_petsc_aij", "atomic_output",
           "ElasticFile", "read_elastic", "write_elastic_file"]
