"""The agent commands as users run them: `hactl resource standards|providers|agents|
describe|debug-*` and `hactl agent check`. They run in this process through the command
line's entry point (the agents they start are real subprocesses); one test runs `hactl`
as a process of its own, to see what a user's terminal gets."""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from hactl.core.cli.main import run

from .conftest import TEST_AGENTS, require_system_agent


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def hactl(*args: str, env: dict[str, str] | None = None) -> Ran:
    """Run the command line in this process with ``env`` added, as `hactl ARGS` would."""
    saved = dict(os.environ)
    out, err = io.StringIO(), io.StringIO()
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            run(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        os.environ.clear()
        os.environ.update(saved)  # -f sets CIB_file; nothing leaks into other tests
    return Ran(code, out.getvalue(), err.getvalue())


def hactl_process(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hactl.core.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def rsctmp(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "rsctmp").mkdir()
    return {"HA_RSCTMP": str(tmp_path / "rsctmp"), "HACTL_OCF_RA_PATH": str(TEST_AGENTS)}


def test_listings() -> None:
    standards = hactl("resource", "standards")
    assert standards.returncode == 0
    assert {"ocf", "lsb", "systemd", "service"} <= set(standards.stdout.split())
    providers = hactl("resource", "providers", "--output", "json")
    assert "hactl" in json.loads(providers.stdout)
    agents = hactl("resource", "agents", "ocf:hactl")
    assert agents.stdout.split() == [
        "ocf:hactl:Dummy",
        "ocf:hactl:HttpService",
        "ocf:hactl:Stateful",
        "ocf:hactl:ping",
    ]
    everything = hactl("resource", "agents", "--output", "json")
    assert "ocf:hactl:Dummy" in json.loads(everything.stdout)


def test_describe_text_and_json() -> None:
    text = hactl("resource", "describe", "ocf:hactl:ping")
    assert text.returncode == 0
    assert text.stdout.startswith("ocf:hactl:ping - Node connectivity as a node attribute")
    assert "host_list [string] (required)" in text.stdout
    assert "monitor: timeout=60s interval=10s" in text.stdout
    data = json.loads(hactl("resource", "describe", "ocf:hactl:Stateful", "-o", "json").stdout)
    assert data["agent"] == "ocf:hactl:Stateful"
    roles = {a["role"] for a in data["actions"] if a["name"] == "monitor"}
    assert roles == {"Promoted", "Unpromoted"}
    bare = hactl("resource", "describe", "HttpService")  # a unique bare type is found
    assert bare.returncode == 0 and bare.stdout.startswith("ocf:hactl:HttpService")


def test_describe_errors_are_one_line() -> None:
    for args, expected in [
        (("nope",), "no agent named 'nope' is installed"),
        (("ocf:Dummy",), "OCF agents need a provider"),
        (("ocf:hactl:Nope",), "no OCF agent ocf:hactl:Nope"),
        (("lsb:nope",), "no LSB agent lsb:nope"),
    ]:
        # the first as a real process: what a terminal shows, no traceback
        runner = hactl_process if expected.startswith("no agent named") else hactl
        done = runner("resource", "describe", *args)
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0], done.stderr
        assert "Traceback" not in done.stderr


def test_garbage_metadata_is_reported(rsctmp: dict[str, str]) -> None:
    done = hactl("resource", "describe", "ocf:broken:Garbage", env=rsctmp)
    assert done.returncode == 1
    assert "agent ocf:broken:Garbage line 1: meta-data is not well-formed XML" in done.stderr


def test_agent_check_passes_on_heartbeat_dummy(rsctmp: dict[str, str], tmp_path: Path) -> None:
    require_system_agent("heartbeat", "Dummy")
    done = hactl(
        "agent",
        "check",
        "/usr/lib/ocf/resource.d/heartbeat/Dummy",
        "-o",
        f"state={tmp_path / 'dummy.state'}",
        env=rsctmp,
    )
    assert done.returncode == 0, done.stdout
    assert "16 of 16 checks passed" in done.stdout  # with reload and migration


@pytest.mark.parametrize(
    ("agent", "options", "checks"),
    [
        ("Dummy", [], 16),
        ("Stateful", [], 18),
        ("ping", ["-o", "host_list=127.0.0.1", "-o", "port=1"], 12),
        ("HttpService", ["-o", "port=0"], 0),  # port 0 is refused by validate-all: see below
    ],
)
def test_agent_check_on_bundled_agents(
    rsctmp: dict[str, str], tmp_path: Path, agent: str, options: list[str], checks: int
) -> None:
    if agent == "HttpService":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            options = ["-o", f"port={probe.getsockname()[1]}"]
        checks = 12
    path = Path(__file__).parents[3] / "plugins/agents/resource.d/hactl" / agent
    done = hactl("agent", "check", str(path), *options, "--output", "json", env=rsctmp)
    report = json.loads(done.stdout)
    assert done.returncode == 0, report
    assert report["agent"] == f"ocf:hactl:{agent}" and report["failed"] == 0
    assert len(report["checks"]) == checks
    names = {c["check"] for c in report["checks"]}
    optional = {"Dummy": {"reload-agent", "migrate_to", "migrate_from"}, "Stateful": {"notify"}}
    assert optional.get(agent, set()) <= names
    assert ("promote" in names) == (agent == "Stateful")


def test_agent_check_fails_a_broken_agent_with_the_right_verdicts(
    rsctmp: dict[str, str], tmp_path: Path
) -> None:
    state = tmp_path / "broken.state"
    done = hactl(
        "agent", "check", str(TEST_AGENTS / "broken" / "Broken"), "-o", f"state={state}", env=rsctmp
    )
    assert done.returncode == 1
    verdicts = {
        line[:33].strip(): line[33:].split(maxsplit=1) for line in done.stdout.splitlines()[2:-1]
    }
    assert verdicts["meta-data"][0] == "PASS"
    assert verdicts["validate-all"][0] == "WARN"  # not advertised
    assert verdicts["stop when stopped (idempotent)"] == [
        "FAIL",
        "expected 0 (SUCCESS), got 1 (ERR_GENERIC): nothing to stop",
    ]
    assert verdicts["start"][0] == "PASS"
    assert done.stdout.strip().endswith("1 of 12 checks FAILED")
    # started but left running: monitor when stopped is the first failure
    state.touch()
    again = hactl(
        "agent",
        "check",
        str(TEST_AGENTS / "broken" / "Broken"),
        "-o",
        f"state={state}",
        "--output",
        "json",
        env=rsctmp,
    )
    checks = {c["check"]: c for c in json.loads(again.stdout)["checks"]}
    assert checks["monitor when stopped"]["verdict"] == "FAIL"
    assert "expected 7 (NOT_RUNNING), got 0 (SUCCESS)" in checks["monitor when stopped"]["detail"]
    assert checks["lifecycle"]["verdict"] == "SKIP"


def test_agent_check_bad_agents(rsctmp: dict[str, str]) -> None:
    garbage = hactl(
        "agent", "check", str(TEST_AGENTS / "broken" / "Garbage"), "--output", "json", env=rsctmp
    )
    checks = {c["check"]: c for c in json.loads(garbage.stdout)["checks"]}
    assert checks["meta-data"]["verdict"] == "FAIL"
    assert "not well-formed XML" in checks["meta-data"]["detail"]
    not_exec = hactl(
        "agent",
        "check",
        str(TEST_AGENTS / "broken" / "NotExecutable"),
        "--output",
        "json",
        env=rsctmp,
    )
    checks = {c["check"]: c for c in json.loads(not_exec.stdout)["checks"]}
    assert "is not executable" in checks["meta-data"]["detail"]
    missing = hactl("agent", "check", "/no/such/agent", env=rsctmp)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    bad_option = hactl("agent", "check", str(TEST_AGENTS / "broken" / "Broken"), "-o", "novalue")
    assert bad_option.returncode == 2 and "is not NAME=VALUE" in bad_option.stderr


CIB = """<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config/>
    <nodes/>
    <resources>
      <primitive id="probe" class="ocf" provider="broken" type="EnvDump">
        <instance_attributes id="probe-params">
          <nvpair id="probe-dump" name="dump" value="{dump}"/>
          <nvpair id="probe-password" name="password" value="s3cret-value"/>
        </instance_attributes>
        <meta_attributes id="probe-meta">
          <nvpair id="probe-tr" name="target-role" value="Started"/>
        </meta_attributes>
        <operations>
          <op id="probe-start" name="start" interval="0s" timeout="45s"/>
        </operations>
      </primitive>
      <primitive id="fence" class="stonith" type="fence_dummy"/>
    </resources>
    <constraints/>
  </configuration>
  <status/>
</cib>
"""


def test_debug_start_runs_the_configured_resource(rsctmp: dict[str, str], tmp_path: Path) -> None:
    dump = tmp_path / "env.json"
    cib = tmp_path / "cib.xml"
    cib.write_text(CIB.format(dump=dump))
    done = hactl("resource", "debug-start", "probe", "-f", str(cib), "--full", env=rsctmp)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Operation start for probe (ocf:broken:EnvDump) returned: 0")
    assert "Environment given to the agent:" in done.stdout
    assert "  OCF_RESKEY_password=********" in done.stdout
    assert "  OCF_RESKEY_CRM_meta_timeout=45000" in done.stdout
    assert "  OCF_RESOURCE_INSTANCE=probe" in done.stdout
    assert "s3cret-value" not in done.stdout  # masked in the parameters and in the output
    assert "OCF_RESKEY_password=********" in done.stdout
    env = json.loads(dump.read_text())["env"]
    assert env["OCF_RESKEY_password"] == "s3cret-value"  # the agent itself gets the secret
    assert env["OCF_RESKEY_CRM_meta_timeout"] == "45000"
    assert env["OCF_RESKEY_CRM_meta_target_role"] == "Started"
    data = json.loads(
        hactl(
            "resource", "debug-monitor", "probe", "-f", str(cib), "--output", "json", env=rsctmp
        ).stdout
    )
    assert data["rc"] == 0 and data["parameters"]["password"] == "********"
    assert data["environment"]["OCF_RESKEY_password"] == "********"
    assert data["environment"]["OCF_RESKEY_dump"] == str(dump)  # "RESKEY" is not a secret


def test_debug_errors(rsctmp: dict[str, str], tmp_path: Path) -> None:
    cib = tmp_path / "cib.xml"
    cib.write_text(CIB.format(dump=tmp_path / "x"))
    for args, code, expected in [
        (("-f", str(cib), "resource", "debug-start", "nope"), 1, "no resource 'nope' in the CIB"),
        (("-f", str(cib), "resource", "debug-start", "fence"), 2, "is a fence device"),
        (("resource", "debug-start", "probe"), 1, "-f FILE"),
        (
            ("resource", "debug-stop", "probe", "-f", str(tmp_path / "none.xml")),
            1,
            "no resource 'probe' in the CIB",
        ),
    ]:
        done = hactl(*args, env={**rsctmp, "CIB_file": ""})
        assert done.returncode == code, (args, done.stderr)
        assert expected in done.stderr and len(done.stderr.strip().splitlines()) == 1
    (tmp_path / "bad.xml").write_text("<cib>")
    bad = hactl("-f", str(tmp_path / "bad.xml"), "resource", "debug-start", "probe")
    assert bad.returncode == 1 and "bad.xml:1: not well-formed XML" in bad.stderr
