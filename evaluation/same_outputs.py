"""Are two runs' outputs the same? For refactors that must not change a published figure.

    git worktree add ../before <commit>
    (cd ../before && PYTHONPATH=. python -m escalation_model.cli run \\
        --config training/configs/default.toml --output ../out-before --no-tracking --quiet)
    python -m escalation_model.cli run --config training/configs/default.toml \\
        --output ../out-after --no-tracking --quiet
    python evaluation/same_outputs.py ../out-before ../out-after

Compares ``summary.json`` field by field (the code version and the model file's SHA-256
are expected to differ: the version names the commit, and the ``.skops`` archive holds
the time it was written), every CSV and every PNG figure byte for byte, and the card's
Markdown line by line with each run's code version replaced by a placeholder. Prints every
difference; exits 1 if there is one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

EXPECTED = {"/code_version", "/model_file/sha256"}


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    if type(a) is not type(b):
        return [f"{path}: {type(a).__name__} != {type(b).__name__}"]
    if isinstance(a, dict):
        out = [f"{path}/{k}: only in one" for k in sorted(set(a) ^ set(b))]
        for k in sorted(set(a) & set(b)):
            out += _differences(a[k], b[k], f"{path}/{k}")
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items != {len(b)}"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _differences(x, y, f"{path}[{i}]")
        ]
    return [] if a == b or path in EXPECTED else [f"{path}: {a!r} != {b!r}"]


def _card_lines(folder: Path) -> list[str]:
    """The card's Markdown lines, the run's code version replaced by a placeholder."""
    version = json.loads((folder / "summary.json").read_text("utf-8"))["code_version"]
    text = (folder / "model_card.md").read_text("utf-8")
    return text.replace(version, "<code version>").splitlines()


def compare(before: Path, after: Path) -> list[str]:
    """Every difference between two output folders that a refactor should not make."""
    found = _differences(
        json.loads((before / "summary.json").read_text("utf-8")),
        json.loads((after / "summary.json").read_text("utf-8")),
    )
    names = {
        str(p.relative_to(folder))
        for folder in (before, after)
        for pattern in ("*.csv", "**/*.png")
        for p in folder.glob(pattern)
    }
    for name in sorted(names):
        x, y = before / name, after / name
        if not (x.exists() and y.exists()) or x.read_bytes() != y.read_bytes():
            found.append(f"{name}: differs")
    card_before, card_after = _card_lines(before), _card_lines(after)
    if len(card_before) != len(card_after):
        found.append(f"model_card.md: {len(card_before)} lines != {len(card_after)}")
    found += [
        f"model_card.md line {i + 1}: differs"
        for i, (x, y) in enumerate(zip(card_before, card_after, strict=False))
        if x != y
    ]
    return found


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2:
        print(__doc__)
        return 2
    found = compare(Path(args[0]), Path(args[1]))
    print("\n".join(found) if found else "same outputs (apart from the code version)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
