"""Timeouts for connecting to the daemon and for reading its responses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Timeout:
    """Seconds to wait for a connection (`connect`) and for each read of a response (`read`).

    None waits without limit. A plain number passed as `timeout=` sets both. Operations
    whose responses are streams (logs, events, pulls, exported archives) wait `read`
    seconds for the response headers, then read the body without a limit unless the
    call passes its own timeout.
    """

    connect: float | None = 10.0
    read: float | None = 60.0


def as_timeout(value: float | Timeout | None, default: Timeout) -> Timeout:
    """Turn a `timeout=` argument into a Timeout, `default` when it is None."""
    if value is None:
        return default
    if isinstance(value, Timeout):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(
            f"timeout must be a positive number of seconds or a Timeout, not {value!r}"
        )
    return Timeout(float(value), float(value))
