"""evtxmpio: tell the KB 2406705 MPIO failover race from real storage loss in Windows logs."""

from __future__ import annotations

__version__ = "0.1.0"
