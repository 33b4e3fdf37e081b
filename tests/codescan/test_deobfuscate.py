"""De-obfuscation: each technique from the catalogue is undone and recorded as a layer."""

from __future__ import annotations

import base64
import binascii
import codecs
import zlib

import pytest

from shieldwall.codescan import Scanner
from shieldwall.codescan.model import Location
from shieldwall.codescan.pyfacts import DecodeBudget, python_facts

URL = "https://github.com/facefusion/facefusion"


def decoded(source: str, depth: int = 8) -> list[tuple[str, tuple[str, ...]]]:
    facts = python_facts(source, Location("t.py", 1), budget=DecodeBudget(depth))
    return [(f.text, f.layers) for f in facts.fragments if f.layers]


def has(source: str, needle: str, layer: str) -> bool:
    return any(needle in text and layer in layers for text, layers in decoded(source))


@pytest.mark.parametrize(
    ("source", "layer"),
    [
        ("u = 'https://git' + 'hub.com/face' + 'fusion/facefusion'", "concat"),
        (f"u = ''.join(chr(c) for c in {[ord(c) for c in URL]})", "chr"),
        (f"u = ''.join(map(chr, {[ord(c) for c in URL]}))", "chr"),
        (f"u = ''.join([{', '.join(repr(c) for c in URL)}])", "join"),
        (
            f"import base64\nu = base64.b64decode('{base64.b64encode(URL.encode()).decode()}')",
            "base64",
        ),
        (
            f"import base64\nu = base64.b32decode('{base64.b32encode(URL.encode()).decode()}')",
            "base32",
        ),
        (f"import binascii\nu = binascii.unhexlify('{URL.encode().hex()}')", "hex"),
        (f"u = bytes.fromhex('{URL.encode().hex()}').decode()", "hex"),
        (f"import codecs\nu = codecs.decode('{codecs.encode(URL, 'rot13')}', 'rot13')", "rot13"),
        (f"u = '{URL[::-1]}'[::-1]", "reverse"),
        (f"u = ''.join(reversed('{URL[::-1]}'))", "reverse"),
        (
            f"import binascii\nu = binascii.a2b_uu({binascii.b2a_uu(URL.encode())!r})",
            "uu",
        ),
        (
            f"import zlib, base64\nu = zlib.decompress(base64.b64decode("
            f"'{base64.b64encode(zlib.compress(URL.encode())).decode()}'))",
            "zlib",
        ),
        ("a = 'face'\nb = 'fusion'\nu = f'https://github.com/{a}{b}/{a}{b}'", "f-string"),
    ],
)
def test_each_technique_is_undone_and_recorded(source: str, layer: str) -> None:
    assert has(source, URL, layer), decoded(source)


def test_getattr_import_indirection_and_nested_exec() -> None:
    inner = f"import os\nos.system('git clone {URL}')"
    middle = f"import base64\nexec(base64.b64decode('{base64.b64encode(inner.encode()).decode()}'))"
    codes = [ord(c) for c in "base64"]
    outer = (
        f'd = getattr(__import__("".join(chr(x) for x in {codes})), "b64decode")\n'
        f"exec(d('{base64.b64encode(middle.encode()).decode()}'))"
    )
    facts = python_facts(outer, Location("t.py", 1), budget=DecodeBudget(8))
    clones = [c for c in facts.commands if "clone" in c.argv]
    assert clones
    assert clones[0].argv[-1] == URL
    # two exec layers, each recorded; the decoder was found through getattr(__import__(...))
    assert clones[0].layers.count("exec") == 2
    assert "getattr" in clones[0].layers


def test_helper_function_reverse_base64_rot13_from_the_catalogue() -> None:
    secret = "==QYiZnZoNncw52cvEmY2ZGazJHcuN3L6JGcu8Ga1dmd09yL6Y2YndWd"
    plain = codecs.decode(base64.b64decode(secret[::-1]).decode(), "rot13")
    assert "facefusion" in plain  # the example in the catalogue decodes to the FaceFusion URL
    src = (
        "import base64, codecs\n"
        "def d(s):\n    return codecs.decode(base64.b64decode(s[::-1]).decode(), 'rot13')\n"
        f"u = d('{secret}')\n"
    )
    assert has(src, plain, "rot13")


def test_lone_encoded_literal_is_guessed_without_its_decoder() -> None:
    secret = "==QYiZnZoNncw52cvEmY2ZGazJHcuN3L6JGcu8Ga1dmd09yL6Y2YndWd"
    found = decoded(f"X = '{secret}'")
    assert any("facefusion" in t and "guess:rot13" in layers for t, layers in found)


def test_obfuscated_clone_is_detected_end_to_end(scanner: Scanner) -> None:
    src = f"import os\nos.system('git clone ' + ''.join(chr(c) for c in {[ord(c) for c in URL]}))"
    report = scanner.scan_text(src, "x.py")
    finding = next(f for f in report.findings if f.rule_id == "SW-FF-REPO")
    assert URL in finding.evidence
    assert "chr" in finding.layers


def test_deep_exec_onion_stops_at_the_depth_limit() -> None:
    code = f"import os\nos.system('git clone {URL}')"
    for _ in range(40):
        code = (
            f"import base64\nexec(base64.b64decode('{base64.b64encode(code.encode()).decode()}'))"
        )
    facts = python_facts(code, Location("t.py", 1), budget=DecodeBudget(5))
    assert any("decode depth limit" in n for n in facts.notes)
    assert not any("clone" in c.argv for c in facts.commands)  # 40 layers deep: out of reach


def test_deep_base64_literal_is_bounded(scanner: Scanner) -> None:
    text = URL
    for _ in range(20):
        text = base64.b64encode(text.encode()).decode()
    report = scanner.scan_text(f"X = '{text}'", "x.py")
    assert any("depth limit" in n for n in report.notes)


@pytest.mark.parametrize(
    "source",
    [
        "x = b'abc'.decode('testcodec')",
        "import codecs\nx = codecs.decode(b'abc', 'no_such_codec')",
        "x = bytes([1, 2, 300])",
        "x = int('9' * 5000)",
        "x = 'a' * 10**12",
        "import base64\nx = base64.b64decode('!!!')",
        "x = chr(-1)",
        "x = ''.join(chr(c) for c in range(10**9))",
    ],
)
def test_unfoldable_constants_never_fail_the_scan(scanner: Scanner, source: str) -> None:
    report = scanner.scan_text(source, "x.py")
    assert not report.errors
    assert report.verdict == "allow"


def test_parser_warnings_about_scanned_code_are_not_raised(scanner: Scanner) -> None:
    # Under filterwarnings=error these SyntaxWarnings would abort the scan if they escaped.
    report = scanner.scan_text("x = 1if True else 2\npath = '\\d+'\nassert (x, 'y')\n", "w.py")
    assert not report.errors
    assert not report.notes
