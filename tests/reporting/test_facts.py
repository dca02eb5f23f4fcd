"""The modules that write the card format figures; they compute none. Every derived
figure comes from reporting/_facts.py (or the summary), so a figure cannot be computed
twice from different denominators."""

from __future__ import annotations

import ast
from pathlib import Path

import escalation_model.reporting as reporting

WRITERS = ("_first_page.py", "_build.py")
ARITHMETIC = (ast.Div, ast.Mult, ast.Sub, ast.FloorDiv, ast.Mod, ast.Pow)


def _arithmetic(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"))
    return [
        f"{path.name}:{node.lineno}: {ast.unparse(node)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ARITHMETIC)
    ]


def test_the_card_writers_hold_no_arithmetic():
    folder = Path(reporting.__file__).parent
    found = [line for name in WRITERS for line in _arithmetic(folder / name)]
    assert found == []


def test_the_check_sees_arithmetic(tmp_path):
    path = tmp_path / "x.py"
    path.write_text("share = cap / families\n")
    assert _arithmetic(path) == ["x.py:1: cap / families"]
