"""Every fuzz target of ``fuzz/`` runs over its seed corpus once, without atheris' engine: the
targets keep working (imports, harness, seeds) although CI never fuzzes at length, and a seed
that reaches a bug fails here as it would under ``make fuzz``."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("atheris")

FUZZ = Path(__file__).resolve().parents[1] / "fuzz"
TARGETS = sorted(
    p.stem
    for p in FUZZ.glob("*.py")
    if p.stem not in {"fuzzlib", "exchangelib", "make_corpus", "fuzz_all"}
)


@pytest.fixture(scope="module", autouse=True)
def fuzz_on_path() -> Iterator[None]:
    sys.path.insert(0, str(FUZZ))
    try:
        yield
    finally:
        sys.path.remove(str(FUZZ))


def _target(name: str) -> Callable[[bytes], None]:
    spec = importlib.util.spec_from_file_location(f"fuzz_target_{name}", FUZZ / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    test_one_input: Callable[[bytes], None] = module.TestOneInput
    return test_one_input


def test_every_target_has_a_seed_corpus_and_a_make_entry() -> None:
    from fuzz_all import TARGETS as RUN_TARGETS

    assert len(TARGETS) >= 10
    assert set(RUN_TARGETS) == set(TARGETS)
    for name in TARGETS:
        seeds = list((FUZZ / "corpus" / name).iterdir())
        assert seeds, f"fuzz/corpus/{name} is empty"
    total = sum(p.stat().st_size for p in (FUZZ / "corpus").rglob("*") if p.is_file())
    assert total < 512 * 1024, "keep the committed seed corpus small"


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", TARGETS)
def test_the_target_runs_over_its_seeds(name: str) -> None:
    test_one_input = _target(name)
    for seed in sorted((FUZZ / "corpus" / name).iterdir()):
        test_one_input(seed.read_bytes())
    test_one_input(b"")  # the shortest input the fuzzer tries
