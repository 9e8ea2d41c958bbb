"""The layers keep to their rules, read from the source itself."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import vodkit

PACKAGE = Path(vodkit.__file__).parent


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every import in a file, relative ones made absolute."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = list(parts[:-1])  # a module's package; for __init__.py, the package itself
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.append((module, [alias.name for alias in node.names]))
    return found


def modules(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


# Pure libraries the domain may use: no I/O, no state (langcodes: BCP 47 tags and names).
PURE_LIBRARIES = {"langcodes"}


def test_the_domain_imports_only_the_standard_library() -> None:
    allowed = set(sys.stdlib_module_names) | {"__future__"} | PURE_LIBRARIES
    for path in modules("domain"):
        for module, _ in imports(path):
            top = module.split(".")[0]
            assert top in allowed or module.startswith("vodkit.domain"), (path.name, module)


def test_entrypoints_know_no_adapter_and_services_no_footprint() -> None:
    for path in modules("entrypoints"):
        for module, _ in imports(path):
            assert not module.startswith("vodkit.adapters"), (path.name, module)
    for path in modules("services"):
        for module, _ in imports(path):
            assert not module.startswith(("vodkit.footprints", "vodkit.entrypoints")), (
                path.name,
                module,
            )


def test_footprints_wire_services_and_never_import_an_entrypoint() -> None:
    for path in modules("footprints"):
        for module, _ in imports(path):
            assert not module.startswith("vodkit.entrypoints"), (path.name, module)


def test_what_differs_between_footprints_is_a_strategy_entrypoints_never_test() -> None:
    """No front door asks what kind of adapter or service it was handed (``isinstance``):
    it calls the strategy on ``App`` (``processing``, ``watch_bucket``...)."""
    for path in modules("entrypoints"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "isinstance":
                checked = ast.unparse(node.args[0])
                assert not checked.startswith(("vodkit", "api", "app")), (path.name, checked)


def calls(name: str) -> list[str]:
    """Where in the package ``name(...)`` is called: one place builds each service."""
    return [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) == name
    ]


@pytest.mark.parametrize(
    ("constructor", "builders"),
    [
        ("TranscodeService", ["footprints/base.py"]),  # transcode_service()
        ("IngestOrchestrator", ["footprints/base.py"]),  # orchestrator()
        ("AssetService", ["footprints/base.py"]),  # wire()
        ("StatusProcessor", ["footprints/base.py"]),  # status_processor()
    ],
)
def test_each_service_is_built_in_one_place(constructor: str, builders: list[str]) -> None:
    assert sorted({where.split(":")[0] for where in calls(constructor)}) == builders
    assert len(calls(constructor)) == len(builders), calls(constructor)


def test_entrypoints_never_branch_on_the_backends_name() -> None:
    """What a footprint does differently is its strategy's to say, not a name to compare."""
    for path in modules("entrypoints"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                compared = [node.left, *node.comparators]
                named = [ast.unparse(c) for c in compared if isinstance(c, ast.Attribute)]
                assert not any(n.endswith(".backend") for n in named), (path.name, named)


def test_the_aws_footprint_does_not_import_the_embedded_one() -> None:
    code = (
        "import sys, vodkit.footprints.aws, vodkit.entrypoints.aws_lambda, vodkit.entrypoints.cli;"
        "print(sorted(m for m in sys.modules if m.startswith(('vodkit.footprints.embedded',"
        " 'vodkit.adapters.catalog.sqlite', 'vodkit.adapters.queue.sqlite',"
        " 'vodkit.adapters.metrics.prometheus', 'prometheus_client', 'watchfiles'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("missing", ["boto3", "botocore"])
def test_a_missing_extra_is_one_line_naming_what_to_install(missing: str) -> None:
    code = (
        f"import sys; sys.modules[{missing!r}] = None\n"
        "sys.argv = ['vodkit', 'assets', 'list']\n"
        "from vodkit.entrypoints.cli import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"VODKIT_BACKEND": "aws", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: the aws footprint needs {missing}, which is not installed: "
        "pip install 'vodkit[aws]'"
    ]
