"""The floor plan's size rules, enforced: no module over 400 lines and no class over 150, outside generated code.

A module that grows past these limits is doing more than one job; the rule is cheaper to keep than to restore.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("scaler", "oci_emulator", "load", "onebox", "tests", "bench", "scripts")
GENERATED = ROOT / "scaler" / "_proto"
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 150


def _modules() -> list[Path]:
    found = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    return sorted(p for p in found if GENERATED not in p.parents)


def test_the_scan_sees_every_package() -> None:
    seen = {p.relative_to(ROOT).parts[0] for p in _modules()}
    assert seen == set(PACKAGES)


def test_no_module_over_400_lines_and_no_class_over_150() -> None:
    too_long = []
    for path in _modules():
        text = path.read_text()
        lines = text.count("\n")
        if lines > MAX_MODULE_LINES:
            too_long.append(f"{path.relative_to(ROOT)}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                length = node.end_lineno - node.lineno + 1
                if length > MAX_CLASS_LINES:
                    too_long.append(f"{path.relative_to(ROOT)}: class {node.name} {length} lines")
    assert too_long == []
