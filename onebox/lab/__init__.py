"""The real-cluster lab: the scaler driven by real KEDA, kube-apiserver, the HPA controller, kube-scheduler, KWOK
and Karpenter's KWOK provider, all on 127.0.0.1 (plus one private network namespace the lab creates and removes).

The components are built from their published Go modules (pinned in lab/*/go.mod) into a cache outside the
repository; this package only builds, starts, wires and stops them. It is the truth the model harness
(onebox.harness) must agree with.
"""
