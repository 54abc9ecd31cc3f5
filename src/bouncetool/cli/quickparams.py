"""Command-line values that need no checking are taken as they are, without importing pydantic.

Typer (0.29 and later) checks every option value with a pydantic
``TypeAdapter``, and importing pydantic for it costs about 60 ms: a quarter
of the start-up of ``bouncetool classify``, paid on every run. Most values
need no such machinery: an option left at its default (typer already skips
those, but builds the adapter first), a plain string, a choice spelled as
one of its values, a small whole number within its bounds. `install` makes
typer's parameters take those values directly, with typer's own choice
matcher, and hand everything else (a path to check, a number out of range,
a misspelt choice) to typer's real adapter, so results and error messages
stay exactly typer's.

With a typer that does not have this machinery, `install` does nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, get_args, get_origin

_PLAIN_NUMBER = re.compile(r"[0-9]{1,9}\Z")


def install() -> bool:
    """Make typer's parameters use `_Quick` coercion; False when this typer has no adapters."""
    try:
        from typer._coercion import RuntimeParam, build_runtime_param
        from typer._param_types import coerce_cli_choice
        from typer.core import _TyperParameter
    except ImportError:
        return False
    if getattr(_TyperParameter.get_runtime_param, "_bouncetool_quick", False):
        return True

    @dataclass(frozen=True)
    class _Quick(RuntimeParam):
        """Takes values that need no checking as they are; asks typer's adapter for the rest."""

        descriptor: Any = None
        _real: list[Any] = field(default_factory=list)

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            try:
                quick = _quick_value(self.descriptor, value, ctx, coerce_cli_choice)
            except (AttributeError, TypeError):  # a typer whose descriptors differ
                quick = _ASK
            if quick is not _ASK:
                return quick
            if not self._real:
                self._real.append(build_runtime_param(self.descriptor))
            return self._real[0]._coerce_value(value, param=param, ctx=ctx)

    def get_runtime_param(self: Any) -> Any:
        if self._runtime_param is None:
            descriptor = self.type_descriptor
            try:
                self._runtime_param = _Quick(
                    parameter_info=descriptor.parameter_info,
                    annotation=descriptor.annotation,
                    descriptor=descriptor,
                )
            except TypeError:  # a typer whose runtime parameters take other fields
                self._runtime_param = build_runtime_param(descriptor)
        return self._runtime_param

    get_runtime_param._bouncetool_quick = True  # type: ignore[attr-defined]
    _TyperParameter.get_runtime_param = get_runtime_param  # type: ignore[method-assign]
    return True


_ASK = object()  # "ask typer's adapter"


def _quick_value(descriptor: Any, value: Any, ctx: Any, choose: Any) -> Any:
    """`value` as typer's adapter would give it, or `_ASK` when that needs the adapter."""
    info = descriptor.parameter_info
    if descriptor.file_annotation is not None or info.parser is not None:
        return _ASK
    annotation = descriptor.annotation
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        if not isinstance(value, list | tuple):
            return _ASK
        items = [_leaf(item, info, one, ctx, choose) for one in value]
        return _ASK if any(one is _ASK for one in items) else items
    return _leaf(annotation, info, value, ctx, choose)


def _leaf(annotation: Any, info: Any, value: Any, ctx: Any, choose: Any) -> Any:
    if not isinstance(value, str):
        return _ASK
    if annotation is str:
        return value
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        try:
            return choose(
                value, choices=tuple(annotation), case_sensitive=info.case_sensitive, ctx=ctx
            )
        except ValueError:
            return _ASK  # not a choice: typer's adapter says so in its own words
    if annotation is int and _PLAIN_NUMBER.match(value):
        number = int(value)
        low, high = info.min, info.max
        if (low is None or number >= low) and (high is None or number <= high):
            return number
    return _ASK
