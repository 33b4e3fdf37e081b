"""``pyproject.toml`` files of any shape TOML allows (found with ``fuzz/codescan_files.py``):
``project = 3``, ``dependencies = 3``, a group that is no array, ``tool.poetry`` an array, and
arrays nested thousands deep were a TypeError, an AttributeError or a RecursionError out of
the reader, whose contract allows only a ScanInputError. They are read as text, with the
dependencies that are there."""

from __future__ import annotations

import io

import pytest

from shieldwall.codescan.model import Location
from shieldwall.codescan.pyfacts import DecodeBudget
from shieldwall.codescan.readers import Source, reader_for
from shieldwall.codescan.textfacts import pyproject_facts
from shieldwall.config import Settings


@pytest.mark.parametrize(
    "text",
    [
        "project = 3\ntool = 3\n",
        "[project]\ndependencies = 3\n",
        '[project]\ndependencies = ["onnxruntime"]\n[project.optional-dependencies]\nx = 3\n',
        "[tool]\npoetry = [1]\n",
        "[tool.poetry]\ndependencies = [1]\n",
    ],
)
def test_a_pyproject_of_any_shape_is_read(text: str) -> None:
    facts = pyproject_facts(text, Location("pyproject.toml", 1))
    assert facts.fragments[0].text == text
    names = [name for name, _ in facts.packages]
    assert names == (["onnxruntime"] if "onnxruntime" in text else [])


def test_a_pyproject_nested_too_deeply_is_matched_as_text() -> None:
    data = ("a = " + "[" * 5000 + "]" * 5000 + "\n").encode()
    source = Source("pyproject.toml", len(data), lambda: io.BytesIO(data))
    settings = Settings()
    reader = reader_for(source, data[:8192])
    facts = reader.read(source, settings, DecodeBudget(settings.codescan_max_decode_depth))
    assert reader.kind == "pyproject"
    assert any("nested too deeply" in note for note in facts.notes)
