"""The mapping file format, as pydantic models (also used for its JSON Schema).

```yaml
entity: reservation          # guest | reservation
fields:
  id:            {column: Booking ID, required: true}
  guest.phone:   {column: Phone, transforms: [phone]}
  start_at:      {path: '[Date, Time]', transforms: [{join: " "}, datetime]}
```

`column` names one key of a flat record (a CSV header, spaces and CJK allowed as written);
`path` is a JMESPath expression for nested JSON. Transforms run in order, each either a
name (`strip`) or a one-key mapping with its arguments (`{join: " "}`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..models import Entity


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    column: str | None = Field(default=None, description="Key of a flat record (CSV header).")
    path: str | None = Field(default=None, description="JMESPath into the raw record.")
    transforms: list[str | dict[str, Any]] = Field(default_factory=list)
    default: Any = None
    required: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        if self.column is not None and self.path is not None:
            raise ValueError("give either `column` or `path`, not both")
        if self.column is None and self.path is None and self.default is None:
            raise ValueError("give `column`, `path` or `default`")
        return self


class MappingSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entity: Entity
    fields: dict[str, FieldSpec]
