"""The file-reader contract, run on every registered reader (built-in or third party).

On any bytes a reader returns facts located in the source, or raises a ScanInputError; it
respects the byte limit; it never executes what it reads.
"""

from __future__ import annotations

import contextlib
import io
import json
import pickle
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shieldwall.codescan.pyfacts import DecodeBudget
from shieldwall.codescan.readers import READERS, FileReader, Source
from shieldwall.config import Settings
from shieldwall.errors import InputTooLarge, ScanInputError

# A name each reader claims, so that the contract runs each one on its own kind of file.
NAMES = {
    "notebook": "n.ipynb",
    "python": "x.py",
    "shell": "x.sh",
    "requirements": "requirements.txt",
    "pyproject": "pyproject.toml",
    "dockerfile": "Dockerfile",
    "onnx": "m.onnx",
    "pickle": "data.dat",
    "opaque": "w.pth",
    "text": "notes.json",
}
SETTINGS = Settings.load(codescan_max_file_bytes=4096, codescan_max_model_bytes=4096)
BUDGET = DecodeBudget(4)
SEEDS = [
    b"",
    b"\x80\x04\x95",
    json.dumps({"cells": [{"cell_type": "code", "source": "!ls"}]}).encode(),
    pickle.dumps({"a": [1, 2]}, protocol=4),
    b"import os\nos.system('echo hi')\n",
    "é\u2028\x00".encode(),
]


def source(name: str, data: bytes) -> Source:
    return Source(name, len(data), lambda: io.BytesIO(data))


def reader_ids(reader: FileReader) -> str:
    return reader.kind


@pytest.mark.parametrize("reader", READERS, ids=reader_ids)
def test_every_reader_is_documented_and_claims_its_kind(reader: FileReader) -> None:
    assert reader.__doc__
    name = NAMES[reader.kind]
    head = b"\x80\x04" if reader.kind == "pickle" else b"text"
    assert reader.claims(source(name, head), head)


@pytest.mark.parametrize("reader", READERS, ids=reader_ids)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.sampled_from(SEEDS), st.binary(max_size=600)))
def test_any_bytes_give_facts_or_a_scan_input_error(reader: FileReader, data: bytes) -> None:
    src = source(NAMES[reader.kind], data)
    message: str | None = None
    try:
        facts = reader.read(src, SETTINGS, BUDGET)
    except ScanInputError as exc:
        message = exc.message
    if message is not None:
        assert src.name in message  # every error names the input it is about
        return
    for frag in facts.fragments:
        assert frag.location.path == src.name
    for _, loc in facts.onnx_graphs:
        assert loc.path == src.name


@pytest.mark.parametrize("reader", [r for r in READERS if r.kind != "opaque"], ids=reader_ids)
def test_reader_respects_the_byte_limit(reader: FileReader) -> None:
    data = b"#" * (SETTINGS.codescan_max_file_bytes + 10)
    with pytest.raises(InputTooLarge):
        reader.read(source(NAMES[reader.kind], data), SETTINGS, BUDGET)


@pytest.mark.parametrize("reader", READERS, ids=reader_ids)
def test_reader_never_executes_content(reader: FileReader, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    payloads = [
        f"cos\nsystem\n(S'touch {marker}'\ntR.".encode(),
        f"import os\nos.system('touch {marker}')\n".encode(),
        f"!touch {marker}\n".encode(),
    ]
    for data in payloads:
        with contextlib.suppress(ScanInputError):
            reader.read(source(NAMES[reader.kind], data), SETTINGS, BUDGET)
    assert not marker.exists()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "cell_type",
                    "source",
                    "outputs",
                    "output_type",
                    "text",
                    "data",
                    "traceback",
                    "metadata",
                    "cells",
                    "nbformat",
                    "name",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.lists(JSON, max_size=4), version=st.sampled_from([3, 4, 5, "4"]))
def test_notebook_reader_on_any_json_shape(cells: list[object], version: object) -> None:
    text = json.dumps({"nbformat": version, "nbformat_minor": 0, "metadata": {}, "cells": cells})
    reader = next(r for r in READERS if r.kind == "notebook")
    with contextlib.suppress(ScanInputError):
        reader.read(source("n.ipynb", text.encode()), SETTINGS, BUDGET)
