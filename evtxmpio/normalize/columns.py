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
from functools import cache
from types import ModuleType

import numpy as np
import pandas as pd

from evtxmpio.model import RECORD_COLUMNS, fits_int64

NAT = -(2**63)  # datetime64's NaT as an integer


def frame_from_columns(columns: dict[str, object]) -> pd.DataFrame:
    """The frame :func:`evtxmpio.model.to_frame` makes, from its columns (``RECORD_COLUMNS`` in
    order; each a list of plain values or an array of its dtype; ``time`` as Unix-epoch
    nanoseconds or ``None``)."""
    if list(columns) != list(RECORD_COLUMNS):
        raise TypeError(f"columns {list(columns)} != {list(RECORD_COLUMNS)}")
    arrow = _arrow()
    return pd.DataFrame({name: typed_column(columns[name], dtype, arrow, name == "time")
                         for name, dtype in RECORD_COLUMNS.items()})


def typed_column(values: object, dtype: str, arrow: ModuleType | None = None,
                 times: bool = False) -> object:
    """``values`` (a list) as an array of ``dtype`` (``times``: nanoseconds to UTC times); an
    array is taken as it is."""
    if not isinstance(values, list):
        return values
    count = len(values)
    if count and dtype != "datetime64[ns, UTC]" and values.count(values[0]) == count and \
            (values[0] is None or type(values[0]) in _SCALARS.get(dtype, ())):
        # one value in every row (most typed columns of a batch are empty): made once
        return _repeat(values[0], dtype, count)
    if times:
        return utc_times(values, arrow)
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


def _repeat(value: object, dtype: str, count: int) -> object:
    if dtype == "bool":
        return np.full(count, value, dtype=bool)
    return pd.array([value], dtype=dtype).repeat(count)


def utc_times(values: list[object], arrow: ModuleType | None = None) -> pd.DatetimeIndex:
    """Nanoseconds (``None`` or outside ``datetime64[ns]``: missing, as
    :func:`evtxmpio.model.ns_to_timestamp`) to ``datetime64[ns, UTC]`` values."""
    nanoseconds = None
    if arrow is not None:
        try:  # a value past 64 bits raises: those are checked one by one below
            nanoseconds = arrow.array(values, type=arrow.int64()).fill_null(NAT).to_numpy()
        except (OverflowError, TypeError, ValueError, arrow.ArrowException):
            nanoseconds = None
    if nanoseconds is None:
        nanoseconds = pd.array([value if value is not None and NAT < value < 2**63 else NAT
                                for value in values], dtype="int64").to_numpy()
    return pd.DatetimeIndex(nanoseconds.view("datetime64[ns]")).tz_localize("UTC")


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
            return pd.arrays.IntegerArray(array.fill_null(0).to_numpy(),
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


def _arrow() -> ModuleType | None:
    """pyarrow, when pandas keeps its ``string`` columns in it (else ``None``)."""
    if pd.StringDtype().storage != "pyarrow":
        return None
    return _pyarrow()


def concat_frames(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames of :func:`frame_from_columns` one after the other, as one frame of the same dtypes.

    Joined a column at a time, each column let go in the parts as it is joined (``parts`` is
    left empty): memory holds the parts and one joined column, never the parts and the whole
    joined frame.
    """
    if len(parts) == 1:
        return parts[0]
    pieces = [dict(part.items()) for part in parts]
    names = list(parts[0].columns)
    parts.clear()
    columns: dict[str, pd.Series] = {}
    for name in names:
        column = pd.concat([piece.pop(name) for piece in pieces], ignore_index=True)
        # Batches may know different categories: the joined column is made categorical again.
        columns[name] = column.astype("category") if RECORD_COLUMNS.get(name) == "category" \
            else column
    return pd.DataFrame(columns)
