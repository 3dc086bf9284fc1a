"""What ``burst-scaler lab build | up | down | status`` do (their flags are declared in onebox.cli).

These four names are a contract: operators' scripts call them. ``status --json`` prints one JSON object whose keys
(ready, kubeconfig, oci_config, emulator_url, scaler_address, namespace) scripts may rely on.
"""

from __future__ import annotations

import argparse
import json
import sys

from onebox.lab.components import Options


def run(args: argparse.Namespace) -> int:
    from onebox.lab import build, up

    try:
        if args.lab_command == "build":
            chosen = tuple(build.component(name) for name in args.names) if args.names else build.COMPONENTS
            build.build_all(components=chosen)
        elif args.lab_command == "up":
            options = Options() if args.node_delay is None else Options(node_registration_delay_seconds=args.node_delay)
            up.up(options=options, examples=not args.no_examples)
        elif args.lab_command == "down":
            up.down()
        else:
            state = up.status()
            if args.json:
                print(json.dumps(state))
            else:
                for key, value in state.items():
                    print(f"{key:18} {value}")
            return 0 if state["ready"] else 1
    except (build.BuildError, up.LabError, RuntimeError) as error:
        print(f"burst-scaler lab: {error}", file=sys.stderr)
        return 1
    return 0
