"""Issue 15's plateau under the harsh settings, on the model harness: a sustained load must not make the managed
tier of a spill-over group flap.

40 msg/s for 120 s at 0.25 s per message needs 10 consumers; a 10 s HPA scale-down window and Karpenter removing
empty nodes at once are the settings under which a backlog-sized pair shrinks the moment its virtual tier has
drained the backlog, then rebuys the nodes. Once the managed tier starts taking over the sustained load it must
never fall below what that load needs until the load ends, on the nodes launched once, and take at least half of it.

"Never shrinks" is measured against the load's need, rate x work time: while the first backlog drains every
consumer is busy, so on a slow (loaded) machine the group's need really is above 10 for longer than ``holdSeconds``
and the managed tier may reach 11 or 12; trimming that surplus back to the need once the backlog is gone, on nodes
already bought, is the sizing working, not a flap. A drop below the need (the 12, 7, 12, 3 the issue saw) fails.
"""

from __future__ import annotations

import itertools
import math

from load.profiles import StepProfile
from onebox.harness.comparison import Setting, comparison_config
from onebox.harness.run import run_harness

PLATEAU_SECONDS = 120.0
RATE = 40.0
WORK_SECONDS = 0.25


async def test_managed_tier_never_shrinks_while_the_plateau_lasts() -> None:
    profile = StepProfile(steps=((0.0, RATE),), duration=PLATEAU_SECONDS)
    config = comparison_config(Setting.HARSH, mode="spillover", profile=profile)
    report = await run_harness(config=config)

    assert report.lost == ()
    assert report.consumed == report.produced
    sustained_need = math.ceil(RATE * WORK_SECONDS)
    during = [r for r in report.rows if r.t < PLATEAU_SECONDS]
    managed = [(r.t, r.replicas.get("orders-managed", 0)) for r in during]
    started = next((i for i, (_, n) in enumerate(managed) if n > 0), None)
    assert started is not None, f"the managed tier never took over any of the sustained load: {managed}"
    held = managed[started:]
    drops = [(a, b) for a, b in itertools.pairwise(held) if b[1] < min(a[1], sustained_need)]
    assert drops == [], f"the managed tier shrank below the sustained need of {sustained_need}: {drops}"
    peak = max(n for _, n in managed)
    assert peak >= sustained_need // 2, f"the managed tier took too little of a need of {sustained_need}: {managed}"
    # nodes were bought once: no consolidation and relaunch during the plateau
    assert report.karpenter_nodes == math.ceil(peak / config.cluster.pods_per_node), report.karpenter_nodes
