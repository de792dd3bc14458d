"""The repository keeps its promises: the README's commands exist, CI runs the test command, and the
conda environment lists the package's requirements."""

import re
import sys
from pathlib import Path

import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: pytest itself depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ;]", spec, maxsplit=1)[0].lower()


def test_readme_commands_are_make_targets():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for target in ("book", "test", "execute"):
        assert f"make {target}" in readme
        assert re.search(rf"^{target}:", makefile, re.M), f"Makefile has no {target} target"


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test\b", ci, re.M)
    assert "set -euo pipefail" in ci


def test_github_workflows_use_the_readme_commands():
    """Pull requests run `make test`; main builds with `make book` and publishes to Pages."""
    readme = (ROOT / "README.md").read_text()
    workflows = {
        p.stem: yaml.safe_load(p.read_text()) for p in (ROOT / ".github/workflows").glob("*.yml")
    }
    assert set(workflows) == {"tests", "book"}

    def runs(workflow):
        return [
            step.get("run", "")
            for job in workflow["jobs"].values()
            for step in job.get("steps", [])
        ]

    tests, book = workflows["tests"], workflows["book"]
    assert "pull_request" in tests[True]  # YAML reads the key `on` as True
    assert book[True]["push"]["branches"] == ["main"]
    test_runs = [r for r in runs(tests) if r.startswith("make ")]
    book_runs = [r for r in runs(book) if r.startswith("make ")]
    assert [r.split()[1] for r in test_runs] == ["test"]
    assert [r.split()[1] for r in book_runs] == ["book", "check-html"]
    for command in test_runs + book_runs:  # the same TORCH choice the README shows
        assert command.split(" TORCH=")[1] in readme
    uses = [s.get("uses", "") for j in book["jobs"].values() for s in j.get("steps", [])]
    assert any(u.startswith("actions/deploy-pages@") for u in uses)
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses)


def test_environment_yml_lists_the_package_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {requirement_name(d) for d in env["dependencies"] if isinstance(d, str)}
    conda = {"torch" if name == "pytorch" else name for name in conda}
    for spec in project["dependencies"]:
        assert requirement_name(spec) in conda, f"environment.yml lacks {spec}"
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e .[book,test]" in pip
