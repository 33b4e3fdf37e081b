"""vPDQ text with numbers no frame has (found writing ``fuzz/vpdq_text.py``'s read-back
check): a frame number of thousands of digits escaped as ``ValueError`` (Python's int limit),
a timestamp of hundreds of digits was read as ``inf`` and stored in a form that does not read
back, and non-ASCII digits were taken as digits. Each is a ``MalformedSignal`` now, through
the parser and through a bank import's signal validation."""

from __future__ import annotations

import pytest

from shieldwall.banks import prepare_signal
from shieldwall.errors import MalformedSignal
from shieldwall.signals.frame_hash import format_vpdq, parse_vpdq

PDQ = "ab" * 32


@pytest.mark.parametrize(
    "line",
    [
        f"{'9' * 5000},50,{PDQ},1.0",  # ValueError: Exceeds the limit (4300 digits)
        f"1,50,{PDQ},{'1' * 400}",  # float() gave inf; format_vpdq wrote "inf"
        f"1,50,{PDQ},1.{'5' * 5000}",
        f"\u0663,50,{PDQ},1.0",  # ARABIC-INDIC DIGIT THREE
        f"1,\uff15\uff10,{PDQ},1.0",  # FULLWIDTH DIGITS FIVE ZERO
    ],
)
def test_a_frame_line_with_numbers_no_frame_has_is_malformed(line: str) -> None:
    with pytest.raises(MalformedSignal, match="vpdq line 1 must be"):
        parse_vpdq(line)
    with pytest.raises(MalformedSignal):
        prepare_signal("vpdq", line)


def test_the_longest_numbers_allowed_read_back() -> None:
    line = f"{'9' * 12},100,{PDQ},{'9' * 12}.125"
    frames = parse_vpdq(line)
    assert parse_vpdq(format_vpdq(frames)) == frames
    assert format_vpdq(frames) == line
