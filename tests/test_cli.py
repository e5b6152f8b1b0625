"""The command line maps its flags onto the engine's options, and says what is wrong plainly."""

from __future__ import annotations

import pytest

from netscope import __version__
from netscope.cli import build_check_parser, build_parser, load_options, main, profile_options


def test_target_and_profile_flags_reach_the_options() -> None:
    args = build_check_parser().parse_args(
        [
            "m.py:make",
            "--weights",
            "w.safetensors",
            "--device",
            "meta",
            "--input-shape",
            "1,3,224,224",
            "--input-dtype",
            "float16",
            "--no-backward",
            "--devices",
            "cpu, cuda:0",
            "--train",
            "--time-budget",
            "0.5",
            "--timeout",
            "30",
            "--max-syncs",
            "2",
        ]
    )
    load, prof = load_options(args), profile_options(args)
    assert (load.target, load.weights, load.device) == ("m.py:make", "w.safetensors", "meta")
    assert load.input_shape == (1, 3, 224, 224) and load.input_dtype == "float16"
    assert load.backward is False and load.trust_pickle is False
    assert prof.devices == ("cpu", "cuda:0") and prof.train is True
    assert (prof.max_seconds, prof.timeout_s) == (0.5, 30.0)
    assert args.max_syncs == 2


def test_default_profile_options_time_every_device() -> None:
    prof = profile_options(build_parser().parse_args(["m.py"]))
    assert prof.devices is None and prof.train is False and prof.max_seconds == 5.0


@pytest.mark.parametrize("shape", ["1,a", "", "-1,3"])
def test_a_bad_input_shape_is_a_usage_error(shape: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "m.py", "-o", "out.json", f"--input-shape={shape}"])
    assert exit_info.value.code == 2
    assert "not a shape" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"netscope {__version__}"


def test_an_error_names_the_file_and_exits_2(tmp_path, capsys: pytest.CaptureFixture) -> None:
    missing = tmp_path / "nope.py"
    assert main(["report", str(missing), "-o", str(tmp_path / "out.json")]) == 2
    err = capsys.readouterr().err
    assert "nope.py" in err and "Traceback" not in err
    assert not (tmp_path / "out.json").exists()
