"""The command line maps its flags onto the engine's options, and says what is wrong plainly."""

from __future__ import annotations

import pytest

from netscope import __version__
from netscope.cli import load_options, main, parse, profile_options


def test_target_and_profile_flags_reach_the_options() -> None:
    args = parse(
        [
            "check",
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
    assert prof.devices == ("cpu", "cuda:0") and load.train is True  # --train: LoadOptions only
    assert (prof.max_seconds, prof.timeout_s) == (0.5, 30.0)
    assert args.max_syncs == 2


def test_default_profile_options_time_every_device() -> None:
    prof = profile_options(parse(["m.py"]))
    assert prof.devices is None and prof.max_seconds == 5.0


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


@pytest.mark.parametrize("argv", [[], ["open"], ["check"]], ids=["bare", "open", "check"])
def test_a_missing_target_is_one_line_and_exit_2(argv, tmp_path, capsys) -> None:
    """``netscope /no/model.py`` says what report says, in one line: no app, no traceback."""
    missing = str(tmp_path / "nope.py")
    assert main([*argv, missing]) == 2
    err = capsys.readouterr().err
    assert err == f"netscope: error: no such model file: {missing}\n"
    assert main([*argv, str(tmp_path / "nope.pt")]) == 2
    assert "no such checkpoint file or folder" in capsys.readouterr().err


def test_an_unknown_command_is_named_with_the_commands_that_exist(
    tmp_path, monkeypatch, capsys: pytest.CaptureFixture
) -> None:
    """``netscope plan m.py``: 'plan' is no command (was 'unrecognized arguments: m.py')."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.py").write_text("from torch import nn\n\nbuild_model = nn.ReLU\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["plan", "m.py"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "'plan' is not a command" in err and "unrecognized arguments" not in err
    assert "report, run" in err and "--fit" in err
    assert parse(["m.py"]).command == "open"  # a bare model path still opens the app
    (tmp_path / "plan").mkdir()  # a folder named like the word is a target, as before
    assert parse(["plan"]).command == "open"


def test_help_lists_every_command(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("open", "report", "check", "run", "collect", "diff"):
        assert f"    {command} " in out


@pytest.mark.parametrize("command", ["open", "report", "check", "run", "collect", "diff"])
def test_each_command_has_its_own_help(command: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: netscope {command}")


def test_an_unknown_option_is_a_usage_error_naming_it(capsys: pytest.CaptureFixture) -> None:
    for argv in (["m.py", "--bogus"], ["report", "m.py", "-o", "x.json", "--bogus"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_a_bare_target_opens_the_app_with_its_options() -> None:
    args = parse(["m.py", "--no-profile", "--device", "meta"])
    assert (args.command, args.target, args.no_profile, args.device) == (
        "open",
        "m.py",
        True,
        "meta",
    )
    assert parse([]).command == "open" and parse([]).target is None  # the demo model
    for argv in (["./run"], ["open", "run"]):  # a model file named like a command
        assert (parse(argv).command, parse(argv).target) == ("open", argv[-1])


def test_run_gives_the_script_its_arguments_untouched() -> None:
    args = parse(["run", "-o", "r.json", "--every", "4", "train.py", "--device", "cuda", "-o", "x"])
    assert (args.command, args.output, args.every) == ("run", "r.json", 4)
    assert (args.script, args.as_module) == ("train.py", False)
    assert args.script_args == ["--device", "cuda", "-o", "x"]
    module = parse(["run", "-m", "pkg.train", "--help"])
    assert (module.script, module.as_module, module.script_args) == ("pkg.train", True, ["--help"])


def test_options_before_a_bare_target_still_open_the_app() -> None:
    args = parse(["--device", "meta", "--debug", "m.py"])
    assert (args.command, args.target, args.device, args.debug) == ("open", "m.py", "meta", True)


@pytest.mark.parametrize(
    "own",
    [
        ["-o", "r.md", "--format", "markdown"],
        ["--output=r.md", "--format=markdown"],
        ["-or.md", "--format", "markdown", "--debug"],
    ],
)
def test_run_options_in_every_spelling_stop_at_the_script(own: list[str]) -> None:
    args = parse(["run", *own, "train.py", "--format", "json", "--debug", "--", "-m", "x"])
    assert (args.output, args.format, args.script) == ("r.md", "markdown", "train.py")
    assert args.script_args == ["--format", "json", "--debug", "--", "-m", "x"]


def test_run_after_a_double_dash_or_a_joined_module() -> None:
    args = parse(["run", "--every", "3", "--", "-weird.py", "--every", "9"])
    assert (args.every, args.script, args.as_module) == (3, "-weird.py", False)
    assert args.script_args == ["--every", "9"]
    joined = parse(["run", "-mpkg.train", "-o", "x"])
    assert (joined.script, joined.as_module, joined.script_args) == ("pkg.train", True, ["-o", "x"])


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["run", "--bogus", "train.py"], "--bogus"),
        # an abbreviation would take the script for its value: refused, not misread
        (["run", "--out", "r.json", "train.py"], "--out"),
        (["collect", "--listen", "127.0.0.1:1", "-o", "r.json", "--bogus"], "--bogus"),
    ],
)
def test_run_and_collect_refuse_an_unknown_option_before_anything_runs(
    argv: list[str], named: str, tmp_path, monkeypatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert f"unrecognized arguments: {named}" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # no report, no script started


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--format", "chrome-trace", "train.py"],
        ["collect", "--listen", "127.0.0.1:1", "-o", "r.json", "--format", "chrome-trace"],
    ],
)
def test_a_run_report_is_json_markdown_or_html(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "invalid choice: 'chrome-trace'" in capsys.readouterr().err
