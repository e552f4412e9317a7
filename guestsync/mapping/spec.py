"""The mapping file format, as pydantic models (also used for its JSON Schema).

```yaml
entity: reservation  # guest reservation order feedback points balance membership coupon
fields:
  id:            {column: Booking ID, required: true}
  guest.phone:   {column: [手機, 電話], transforms: [{phone: {invalid: keep}}]}
  guest.email:   {first_of: [customer.email, contact.email], transforms: [email]}
  start_at:      {path: '[Date, Time]', transforms: [{join: " "}, datetime]}
  requests:      {template: "{{ Notes }} ({{ Occasion }})"}
  channel:       {default: online}
```

Where a value comes from, one of:
- `column`: one key of a flat record (a CSV header, spaces and CJK allowed as written);
  a list of columns takes the first that is not empty.
- `path`: a JMESPath expression for nested JSON (a quoted string; `'[a, b]'` is a
  JMESPath list of both values, which `join` can glue together).
- `first_of`: a list of JMESPath expressions; the first that is not empty wins.
- `template`: a sandboxed Jinja2 template over the record (`{{ given_name }}`;
  `{{ record["Booking ID"] }}` for keys that are not plain names).
- none of these, only `default`: a constant.

A list of objects (order `items`) may say how each element becomes one item with `each:`,
a mapping of the item's fields whose paths are relative to the element.

Transforms run in order, each either a name (`strip`) or a one-key mapping with its
arguments (`{join: " "}`). `default` applies when the value is empty after the
transforms; `required: true` rejects the record when it is still empty.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..models import Entity

SOURCES = ("column", "path", "first_of", "template")


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    column: str | list[str] | None = Field(
        default=None, description="Key of a flat record (CSV header); a list: first non-empty."
    )
    path: str | None = Field(default=None, description="JMESPath into the raw record.")
    first_of: list[str] | None = Field(
        default=None, description="JMESPath expressions; the first non-empty value wins."
    )
    template: str | None = Field(default=None, description="Sandboxed Jinja2 over the record.")
    transforms: list[str | dict[str, Any]] = Field(default_factory=list)
    each: dict[str, FieldSpec] | None = Field(
        default=None,
        description="For a list of objects (order items): how each becomes one item; "
        "paths are relative to the element.",
    )
    default: Any = None
    required: bool = False

    @field_validator("path", mode="before")
    @classmethod
    def _path_is_text(cls, v: Any) -> Any:
        if isinstance(v, list):
            raise ValueError(
                "`path` is one JMESPath string: for the first non-empty of several paths use "
                "`first_of: [a, b]`; for a list of values quote it: path: '[a, b]'"
            )
        return v

    @field_validator("column", "first_of")
    @classmethod
    def _not_empty(cls, v: Any) -> Any:
        if isinstance(v, list) and not v:
            raise ValueError("give at least one")
        return v

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        given = [k for k in SOURCES if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give only one of `column`, `path`, `first_of`, `template`: {given}")
        if not given and self.default is None:
            raise ValueError("give `column`, `path`, `first_of`, `template` or `default`")
        return self

    @property
    def columns(self) -> list[str]:
        if self.column is None:
            return []
        return [self.column] if isinstance(self.column, str) else list(self.column)


class MappingSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entity: Entity
    fields: dict[str, FieldSpec]
