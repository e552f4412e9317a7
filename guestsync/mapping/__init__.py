"""YAML field mappings: source record (CSV row, JSON payload) -> canonical SourceRecord.

A mapping file is validated and compiled once (`load_mapping`) into a `CompiledMapping`
whose `apply()` runs plain pre-bound Python per record.
"""

from .compiler import CompiledMapping, compile_mapping, load_mapping
from .spec import FieldSpec, MappingSpec

__all__ = ["CompiledMapping", "FieldSpec", "MappingSpec", "compile_mapping", "load_mapping"]
