"""The refresh cache: one upstream read per distinct source per TTL, bounded waits, and honest staleness.

KEDA asks GetMetricSpec, GetMetrics and IsActive for every ScaledObject on every poll, and many ScaledObjects
often watch one queue. Without sharing, OCI would see one GetStats per RPC and throttle us. So every read of a
source goes through here:

* **single flight** — concurrent askers of one source await the same in-flight read (``entry``);
* **TTL** — a value younger than the TTL is served without asking OCI; a failure is remembered for a TTL too,
  so a broken upstream is not hammered;
* **bounded wait** — a caller waits at most its timeout; the read itself runs on (shielded) and warms the cache.
  When a usable last value exists, a slow refresh may hold callers only ``patience`` seconds *in total* (counted
  from the refresh's start), so KEDA's GetMetricSpec + GetMetrics + IsActive do not each pay for one hung read;
* **staleness** — after a failure the last good value is served while it is younger than ``max_staleness``,
  after that callers get ``UnavailableError`` (never an invented zero);
* **throttled** — a 429 (``ThrottledError``) opens a back-off for that source alone: no read until it ends (OCI's
  retry hint when it gave one, else a doubling pause, both bounded), the last good value served meanwhile within the
  staleness bound. Nothing retries a 429 inside an RPC;
* **push watchers** — StreamIsActive subscribers share one refresh loop per source (``watch``);
* **de-phased** — KEDA polls (and opens streams for) all its ScaledObjects at once, so every source would be read
  at the same moment of every TTL for ever, each round's SDK calls contending for the GIL together: the RPC
  latency tail. Once per source, the first value is fresh for a random fraction of the TTL and a refresh loop's
  first pause is a random fraction of the push interval; from then on the reads stay spread;
* **injectable time** — every reading of the clock and every wait goes through one ``Clock`` (``clock``), so tests
  drive the cache on a fake clock instead of sleeping.
"""

from scaler.refresh.cache import CacheTiming, RefreshCache, throttle_pause
from scaler.refresh.clock import Clock, LoopClock, as_clock
from scaler.refresh.entry import Snapshot
from scaler.refresh.watch import CLOSED, Subscription

__all__ = [
    "CLOSED",
    "CacheTiming",
    "Clock",
    "LoopClock",
    "RefreshCache",
    "Snapshot",
    "Subscription",
    "as_clock",
    "throttle_pause",
]
