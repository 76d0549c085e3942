"""Typed pandas columns from plain Python values, a batch of events at a time, and the batches
joined: the frame :func:`evtxmpio.model.to_frame` makes, without its per-row conversions.

A column is given as a list of plain values (``None`` for missing) or as an array already of its
dtype. Where pandas keeps its ``string`` columns in pyarrow (an optional dependency), text and
integer columns are built by pyarrow straight from the list; a column that holds one value in
every row (a batch of one log: its host, channel, file and reader) is made from that value
once. Whatever pyarrow will not take as it stands (an integer past 64 bits, a value of another
type) goes the way pandas' own constructors go, so the values are the same either way.
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass
from functools import cache
from types import ModuleType

import numpy as np
import pandas as pd

from evtxmpio.model import EVENT_COLUMNS, RECORD_COLUMNS, fits_int64

NAT = -(2**63)  # datetime64's NaT as an integer


def frame_from_columns(columns: dict[str, object]) -> pd.DataFrame:
    """The frame :func:`evtxmpio.model.to_frame` makes, from its columns (``RECORD_COLUMNS`` in
    order; each a list of plain values, a :class:`Same` or an array of its dtype; ``time`` as
    Unix-epoch nanoseconds or ``None``)."""
    if list(columns) != list(RECORD_COLUMNS):
        raise TypeError(f"columns {list(columns)} != {list(RECORD_COLUMNS)}")
    return frame_of_parts({name: [part] for name, part in column_parts(columns).items()})


def column_parts(columns: dict[str, object]) -> dict[str, object]:
    """Each of ``columns`` (as :func:`frame_from_columns` takes them; ``name`` too, if given)
    as a part of a column: a :class:`Same`, or an array of its dtype (``time``: nanoseconds,
    ``int64``)."""
    arrow = text_arrow()
    return {name: column_part(values, EVENT_COLUMNS[name], arrow, name == "time")
            for name, values in columns.items()}


def frame_of_parts(parts: dict[str, list[object]], schema: dict[str, str] | None = None
                   ) -> pd.DataFrame:
    """The frame of columns given as parts (:func:`column_parts`), each joined in order
    (``schema``: the columns and their dtypes, default ``RECORD_COLUMNS``). Joined a column at
    a time, its parts let go as it is joined (``parts`` is left empty): memory holds the parts
    and one joined column, never the parts and the whole joined frame."""
    columns = {}
    for name, dtype in (RECORD_COLUMNS if schema is None else schema).items():
        columns[name] = join_parts(parts.pop(name), dtype, name == "time")
    return pd.DataFrame(columns, copy=False)


@dataclass(frozen=True, slots=True)
class Same:
    """A part of a column that holds ``value`` in each of its ``count`` rows (most typed columns
    of a batch are empty; host, channel, file and reader rarely change): made once, when the
    column is joined, as the array of the whole column if every part is this one value."""

    value: object
    count: int


def column_part(values: object, dtype: str, arrow: ModuleType | None = None,
                times: bool = False) -> object:
    """``values`` (a list) as a part of a column of ``dtype``: a :class:`Same`, or an array of
    that dtype (``times``: nanoseconds to ``int64``, ``NaT`` for missing); anything else is
    taken as it is."""
    if not isinstance(values, list):
        return values
    count = len(values)
    first = values[0] if count else None
    if count and not times and (first is None or type(first) in _SCALARS.get(dtype, ())) and \
            fits_int64(first) and _alike(values[-1], first) and values.count(first) == count:
        return Same(first, count)  # (the last value first: a quick no)
    if times:
        return nanoseconds_of(values, arrow)
    return typed_column(values, dtype, arrow)


def typed_column(values: list[object], dtype: str, arrow: ModuleType | None = None) -> object:
    """``values`` as an array of ``dtype`` (not ``time``)."""
    if dtype == "Int64":
        return int64_array(values, arrow)
    if dtype == "string" and arrow is not None:
        return _arrow_strings(values, arrow)
    if dtype == "bool":
        return pd.array(values, dtype="bool").to_numpy()
    return pd.array(values, dtype=dtype)


# Types a repeated value may have, per dtype (others, like a bool in an Int64 column, go the
# general way and convert as pandas converts them).
_SCALARS = {"string": (str,), "Int64": (int,), "category": (str,), "bool": (bool,)}


def join_parts(parts: list[object], dtype: str, times: bool = False) -> object:
    """The column of ``parts`` one after the other (``times``: of nanoseconds, made UTC times);
    ``parts`` is left empty."""
    if times:
        nanoseconds = np.concatenate([_times_part(part) for part in parts]) if parts else \
            np.zeros(0, dtype=np.int64)
        parts.clear()
        return pd.DatetimeIndex(nanoseconds.view("datetime64[ns]")).tz_localize("UTC")
    first = parts[0] if parts else Same(None, 0)
    if isinstance(first, Same) and all(isinstance(part, Same) and _alike(part.value, first.value)
                                       for part in parts):
        whole = sum(part.count for part in parts)  # type: ignore[attr-defined]
        parts.clear()
        return _repeat(first.value, dtype, whole)
    arrays = [_repeat(part.value, dtype, part.count) if isinstance(part, Same) else part
              for part in parts]
    parts.clear()
    if len(arrays) == 1:
        return arrays[0]
    if dtype == "bool":
        return np.concatenate(arrays)
    if dtype == "category":  # parts may know other categories: made categorical again
        return pd.concat([pd.Series(array) for array in arrays],
                         ignore_index=True).astype("category").array
    return type(arrays[0])._concat_same_type(arrays)  # type: ignore[attr-defined]


def _alike(value: object, other: object) -> bool:
    return value is other or (type(value) is type(other) and value == other)


def _times_part(part: object) -> np.ndarray:
    if isinstance(part, Same):
        return np.full(part.count, NAT if part.value is None else part.value, dtype=np.int64)
    return part  # type: ignore[return-value]


def _repeat(value: object, dtype: str, count: int) -> object:
    if dtype == "bool":
        return np.full(count, value, dtype=bool)
    if dtype == "Int64" and (value is None or (type(value) is int and fits_int64(value))):
        return pd.arrays.IntegerArray(np.full(count, 0 if value is None else value,
                                              dtype=np.int64), np.full(count, value is None))
    if dtype == "string" and (value is None or type(value) is str) and \
            (arrow := text_arrow()) is not None:
        return pd.arrays.ArrowStringArray(
            arrow.nulls(count, type=arrow.large_string()) if value is None else
            arrow.repeat(arrow.scalar(value, type=arrow.large_string()), count))
    return pd.array([value], dtype=dtype).repeat(count)


def nanoseconds_of(values: list[object], arrow: ModuleType | None = None) -> np.ndarray:
    """Nanoseconds as ``int64`` (``None`` or outside ``datetime64[ns]``: ``NaT``, as
    :func:`evtxmpio.model.ns_to_timestamp` makes them missing)."""
    if arrow is not None:
        try:  # a value past 64 bits raises: those are checked one by one below
            return arrow.array(values, type=arrow.int64()).fill_null(NAT).to_numpy(
                zero_copy_only=False, writable=True)  # later stages may write in place
        except (OverflowError, TypeError, ValueError, arrow.ArrowException):
            pass
    return pd.array([value if value is not None and NAT < value < 2**63 else NAT
                     for value in values], dtype="int64").to_numpy()


def int64_array(values: list[object], arrow: ModuleType | None = None
                ) -> pd.api.extensions.ExtensionArray:
    """``Int64`` values; integers past 64 bits become missing (see
    :func:`evtxmpio.model.to_frame`)."""
    if arrow is not None:
        try:
            array = arrow.array(values, type=arrow.int64())
        except (OverflowError, TypeError, ValueError, arrow.ArrowException):
            array = None  # a value past 64 bits, or not an int: as pandas converts it
        if array is not None and float not in map(type, values):  # pyarrow truncates 1.5
            return pd.arrays.IntegerArray(
                array.fill_null(0).to_numpy(zero_copy_only=False, writable=True),
                array.is_null().to_numpy(zero_copy_only=False))
    try:
        with warnings.catch_warnings():  # a value past 64 bits warns before it raises
            warnings.simplefilter("ignore", RuntimeWarning)
            return pd.array(values, dtype="Int64")
    except (OverflowError, TypeError, ValueError):
        return pd.array([value if fits_int64(value) else None for value in values],
                        dtype="Int64")


def _arrow_strings(values: list[object], arrow: ModuleType) -> object:
    try:
        array = arrow.array(values, type=arrow.large_string())
    except (TypeError, ValueError, arrow.ArrowException):  # not all text: as pandas does
        return pd.array(values, dtype="string")
    return pd.arrays.ArrowStringArray(array)


@cache
def _pyarrow() -> ModuleType | None:
    if importlib.util.find_spec("pyarrow") is None:
        return None
    import pyarrow

    return pyarrow


def text_arrow() -> ModuleType | None:
    """pyarrow, when pandas keeps its ``string`` columns in it (else ``None``)."""
    if pd.StringDtype().storage != "pyarrow":
        return None
    return _pyarrow()
