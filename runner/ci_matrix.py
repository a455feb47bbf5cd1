"""`python -m runner.ci_matrix <name>`: the GitHub Actions test matrix of conf/ci/<name>.yaml as
one line of JSON, so the matrix is declared once (in the CI config) and read by the workflow with
`fromJSON`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from runner.shared.errors import EXIT_INVALID
from runner.shared.hydra_cli import config_path


def ci_dir() -> Path:
    location = config_path()
    if location.startswith("pkg://"):
        from importlib import resources

        return Path(str(resources.files("runner.conf"))) / "ci"
    return Path(location) / "ci"


def matrix(name: str) -> dict:
    from omegaconf import OmegaConf

    path = ci_dir() / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in ci_dir().glob("*.yaml")))
        raise LookupError(f"ci: unknown CI config '{name}'; allowed: {known}")
    node = OmegaConf.load(path).get("ci", {}).get("matrix")
    if not node:
        raise LookupError(f"ci.matrix: missing in {path}; add os and python-version lists")
    return OmegaConf.to_container(node, resolve=True)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m runner.ci_matrix <ci config name, e.g. pr>", file=sys.stderr)
        return EXIT_INVALID
    try:
        print(json.dumps(matrix(argv[0]), separators=(",", ":")))
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
