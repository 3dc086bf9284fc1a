"""Cached, bounded async answers from the Kubernetes API for the RPC path.

The RPC path must answer within its deadline even when the API server is slow, so Kubernetes reads go through
the same refresh cache as OCI reads (shared, TTL'd, bounded wait) and an unknown answer is ``None``: callers fall
back to decisions that need no cluster state (pure overflow, the plain backlog policy). The read of a ScaledObject's
target is per object, so it goes when the object is forgotten (scaler.forgetting); a group's peer read goes when
nobody asked about the group for the cache's ``prune_after``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Callable
from typing import Any

from scaler.errors import UnavailableError
from scaler.kube import ClusterReader, GroupPeer, Workload
from scaler.refresh import CacheTiming, Clock, RefreshCache
from scaler.values import Tier

log = logging.getLogger(__name__)

_Key = tuple[str, str, str]


class ClusterView:
    """What the service asks of the cluster: a ScaledObject's target, and a group member's partner."""

    def __init__(
        self,
        *,
        reader: ClusterReader,
        executor: concurrent.futures.Executor,
        timing: CacheTiming,
        clock: Clock | Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = reader
        self._executor = executor
        self._reported: set[_Key] = set()
        """Keys whose failure was logged: logged again only after they succeed once."""
        self._cache: RefreshCache[_Key, Any] = RefreshCache(
            read=self._read, timing=timing, clock=clock, on_forget=self._reported.discard
        )

    async def _read(self, key: _Key) -> Any:
        kind, namespace, name = key
        loop = asyncio.get_running_loop()
        if kind == "target":
            return await loop.run_in_executor(self._executor, self._reader.scale_target, namespace, name)
        tier = Tier(kind.removeprefix("peer:"))
        return await loop.run_in_executor(self._executor, self._reader.group_peer, namespace, name, tier)

    async def _get(self, key: _Key, max_wait: float) -> Any:
        try:
            value = (await self._cache.get(key, max_wait=max_wait)).value
        except UnavailableError as exc:
            if key not in self._reported:
                self._reported.add(key)
                log.warning("Kubernetes read %s unavailable (%s); deciding without it", "/".join(key), exc)
            return None
        self._reported.discard(key)
        return value

    async def target(self, namespace: str, scaled_object: str, *, max_wait: float) -> Workload | None:
        value = await self._get(("target", namespace, scaled_object), max_wait)
        return value if isinstance(value, Workload) else None

    async def peer(self, namespace: str, group: str, tier: Tier, *, max_wait: float) -> GroupPeer | None:
        """The member of ``group`` on ``tier`` (the other member's view of its partner)."""
        value = await self._get((f"peer:{tier}", namespace, group), max_wait)
        return value if isinstance(value, GroupPeer) else None

    def forget(self, namespace: str, name: str) -> None:
        """Drop the cached read of this ScaledObject's target."""
        self._cache.forget(("target", namespace, name))

    def __len__(self) -> int:
        return len(self._cache)

    async def close(self) -> None:
        await self._cache.close()
