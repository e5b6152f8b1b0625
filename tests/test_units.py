"""One spelling of every figure: the app, the reports and ``netscope check`` write bytes, FLOPs,
counts and times through netscope.units."""

from netscope import units
from netscope.app import format as app_format
from netscope.report import check_text, values


def test_sizes_go_past_gibibytes() -> None:
    assert units.size(512) == "512 B"
    assert units.size(2048) == "2.0 KiB"
    assert units.size(int(133.7 * 2**30)) == "133.7 GiB"
    assert units.size(657 * 2**40) == "657.0 TiB"
    assert units.size(3 * 2**50) == "3.0 PiB"
    assert units.size(-36352) == "-35.5 KiB"
    assert units.size(None) == "n/a"


def test_flops_have_three_significant_digits() -> None:
    assert units.flops(672) == "672 FLOP" and units.macs(672) == "336 MAC"
    assert units.flops(30720) == "30.7 kFLOP" and units.macs(30720) == "15.4 kMAC"
    assert units.flops(999_960) == "1.00 MFLOP"  # rounds up into the next prefix
    assert units.flop_rate(9.55e9) == "9.55 GFLOP/s"
    assert units.flops(0) == "0 FLOP" and units.flops(None) == "n/a"


def test_parameter_counts_read_as_spoken() -> None:
    assert units.count(68_700_000_000) == "68.7B"  # as the README writes it, never "68.7G"
    assert units.count(1_234_567) == "1.23M" and units.count(999) == "999"
    assert units.exact_count(1_234_567) == "1,234,567"


def test_times() -> None:
    assert units.ms(0.6) == "600.0 µs" and units.ms(12.5) == "12.50 ms"
    assert units.ms(1234) == "1,234 ms"


def test_every_layer_writes_with_the_same_functions() -> None:
    assert app_format.size is units.size is values.fmt_bytes is check_text.size
    assert app_format.flops is units.flops is values.fmt_flops is check_text.flops
    assert app_format.ms is units.ms is values.fmt_ms
