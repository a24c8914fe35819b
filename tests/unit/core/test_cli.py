"""The command line's frame: help, version, usage errors and error rendering."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hactl.core.cli import main
from hactl.core.errors import HactlError, NotFoundError


def hactl(*args: str) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it, in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "hactl.core.cli.main", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_help_lists_every_noun_without_importing_them() -> None:
    result = hactl("--help")
    assert result.returncode == 0
    for noun, (_module, help_text) in main.NOUNS.items():
        assert f"  {noun}  " in result.stdout and help_text in result.stdout
    for option in ("-f FILE", "--sandbox NODE", "--version"):
        assert option in result.stdout
    assert hactl().stdout == result.stdout  # no arguments: the same help
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from hactl.core.cli import main\n"
            "try:\n    main.run(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith(('hactl.plugins', 'typer'))"
            " or m in ('stevedore', 'lxml.etree', 'pydantic')))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("noun", list(main.NOUNS))
def test_every_noun_has_its_own_help(noun: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main.run([noun, "--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert f"hactl {noun}" in out.lower() and main.NOUNS[noun][1] in " ".join(out.split())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["resourc"], "no such command 'resourc' (hint: did you mean `hactl resource`?)"),
        (["--bogus"], "no such option '--bogus' (hint: see `hactl --help`)"),
    ],
)
def test_root_usage_errors_are_one_line(args: list[str], message: str) -> None:
    result = hactl(*args)
    assert result.returncode == 2
    assert result.stderr == f"hactl: error: {message}\n"


def test_version() -> None:
    result = hactl("--version")
    assert result.returncode == 0 and result.stdout.startswith("hactl ")


@pytest.mark.parametrize(
    "args", [["no-such-noun"], ["plugins", "lsit"], ["plugins", "list", "--bogus"]]
)
def test_usage_errors_exit_2_without_traceback(args: list[str]) -> None:
    result = hactl(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "error:" in result.stderr.lower()


def test_plugins_list_unknown_category_is_one_line() -> None:
    result = hactl("plugins", "list", "--category", "fencng")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "unknown plugin category 'fencng'" in result.stderr and "hint:" in result.stderr


def test_plugins_list_json_is_a_list_of_records() -> None:
    result = hactl("plugins", "list", "--output", "json")
    assert result.returncode == 0, result.stderr
    for record in json.loads(result.stdout):
        assert set(record) == {
            "category",
            "name",
            "target",
            "distribution",
            "version",
            "status",
            "reason",
        }


def _run_with(exc: BaseException, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    def explode(argv: list[str]) -> object:
        raise exc

    monkey = pytest.MonkeyPatch()
    monkey.setattr(main, "dispatch", explode)
    try:
        with pytest.raises(SystemExit) as exit_info:
            main.run(["plugins"])
    finally:
        monkey.undo()
    return int(exit_info.value.code or 0), capsys.readouterr().err


def test_hactl_errors_print_where_message_and_hint(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run_with(
        NotFoundError("no resource 'webb'", where="cib.xml", hint="did you mean 'web'?"), capsys
    )
    assert code == 1
    assert err == "hactl: error: cib.xml: no resource 'webb' (hint: did you mean 'web'?)\n"


def test_unexpected_errors_are_one_line_too(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run_with(KeyError("boom"), capsys)
    assert code == main.INTERNAL_ERROR_EXIT
    assert err.count("\n") == 1 and "internal error: KeyError" in err and "HACTL_DEBUG" in err


def test_error_exit_codes_follow_the_class() -> None:
    assert HactlError("x").exit_code == 1
    from hactl.core.errors import UsageError

    assert UsageError("x").exit_code == 2


def test_a_reader_that_goes_away_is_not_an_error() -> None:
    """`hactl plugins list | head -1`: the pipe closes before hactl writes."""
    process = subprocess.Popen(
        [sys.executable, "-m", "hactl.core.cli.main", "plugins", "list", "-o", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    process.stdout.close()  # long before the interpreter has started
    _out, err = process.communicate(timeout=60)
    assert process.returncode == main.BROKEN_PIPE_EXIT
    assert err == ""
