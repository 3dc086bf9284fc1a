"""The rule catalogue: every rule documented, the Markdown reference rendered from it."""

from __future__ import annotations

import json

from scaler.placement import (
    RULES,
    RuleId,
    Severity,
    rules_markdown,
)


def test_every_rule_is_documented() -> None:
    for rule_id, rule in RULES.items():
        assert rule.id == rule_id
        assert rule_id == rule_id.lower()
        assert " " not in rule_id
        assert rule.summary.endswith(".")
        assert rule.fix
        assert rule.tier in (None, "virtual", "managed")
        assert rule.tier is None or rule_id.startswith(rule.tier + "-")
    assert {r for r, rule in RULES.items() if rule.severity is Severity.WARNING} == {
        "virtual-unsized",
        "target-not-found",
    }


def test_rule_reference_is_generated_from_the_table() -> None:
    text = rules_markdown()
    for rule_id, rule in RULES.items():
        assert f"| `{rule_id}` | {rule.tier or 'any'} | {rule.severity.value} |" in text
        assert f"#### `{rule_id}`" in text
        assert rule.fix in text


def test_rule_ids_print_and_serialise_as_their_names() -> None:
    assert set(RULES) == set(RuleId)
    assert f"{RuleId.VIRTUAL_PVC}" == str(RuleId.VIRTUAL_PVC) == "virtual-pvc"
    assert json.dumps({"rule": RuleId.VIRTUAL_PVC}) == '{"rule": "virtual-pvc"}'


def test_a_fix_is_one_template_filled_per_finding() -> None:
    rule = RULES[RuleId.VIRTUAL_HOSTPATH]
    assert rule.fix.endswith("spec.template.spec:\n  volumes:\n  - name: cache\n    emptyDir: {}")
    assert rule.fix_for(pod_spec="spec.jobTargetRef.template.spec", volume="logs").endswith(
        "spec.jobTargetRef.template.spec:\n  volumes:\n  - name: logs\n    emptyDir: {}"
    )
    tolerations = RULES[RuleId.MANAGED_NODEPOOL_TOLERATION].fix_for(tolerations="  - key: a\n    operator: Exists")
    assert tolerations == "spec.template.spec:\n  tolerations:\n  - key: a\n    operator: Exists"
