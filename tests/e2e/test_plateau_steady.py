"""Issue 15's plateau under the harsh settings, on the model harness: a sustained load must not make the managed
tier of a spill-over group flap.

40 msg/s for 120 s at 0.25 s per message needs 10 consumers; a 10 s HPA scale-down window and Karpenter removing
empty nodes at once are the settings under which a backlog-sized pair shrinks the moment its virtual tier has
drained the backlog, then rebuys the nodes. The managed tier must instead climb once and stay until the load ends,
on the nodes launched once.
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
    reached = next((i for i, (_, n) in enumerate(managed) if n >= sustained_need), None)
    assert reached is not None, f"the managed tier never reached the sustained need of {sustained_need}: {managed}"
    held = managed[reached:]
    drops = [(a, b) for a, b in itertools.pairwise(held) if b[1] < a[1]]
    assert drops == [], f"the managed tier shrank while the load was sustained: {drops}"
    # nodes were bought once: no consolidation and relaunch during the plateau
    peak = max(n for _, n in managed)
    pods_per_node = config.cluster.pods_per_node
    assert report.karpenter_nodes == math.ceil(peak / pods_per_node), report.karpenter_nodes
