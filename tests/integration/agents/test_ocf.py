"""The ocf class against real agents: Debian's heartbeat/Dummy and pacemaker/Stateful,
hactl's bundled agents, and test agents that misbehave on purpose."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from hactl.core.agentmeta import MetadataError, parse_metadata
from hactl.core.drivers import OcfRc, OperationRequest, OperationStatus, notification_meta
from hactl.core.errors import NotFoundError
from hactl.plugins.agents.ocf import OcfAgentClass

from .conftest import TEST_AGENTS, require_system_agent, run


def request(
    agent: str, action: str, *, params: dict[str, str] | None = None, timeout_ms: int = 20_000
) -> OperationRequest:
    return OperationRequest(
        resource="r1", agent=agent, action=action, params=params or {}, timeout_ms=timeout_ms
    )


def lifecycle(ocf: OcfAgentClass, agent: str, params: dict[str, str]) -> list[tuple[str, int]]:
    codes = []
    for action in ("monitor", "start", "monitor", "start", "stop", "monitor", "stop"):
        result = run(ocf, request(agent, action, params=params))
        assert result.status == OperationStatus.DONE, result
        codes.append((action, result.rc))
    return codes


EXPECTED_LIFECYCLE = [
    ("monitor", 7),
    ("start", 0),
    ("monitor", 0),
    ("start", 0),
    ("stop", 0),
    ("monitor", 7),
    ("stop", 0),
]


def test_heartbeat_dummy_every_action(ocf: OcfAgentClass, tmp_path: Path) -> None:
    require_system_agent("heartbeat", "Dummy")
    params = {"state": str(tmp_path / "dummy.state")}
    assert lifecycle(ocf, "ocf:heartbeat:Dummy", params) == EXPECTED_LIFECYCLE
    for action in ("validate-all", "reload", "migrate_to", "migrate_from"):
        result = run(ocf, request("ocf:heartbeat:Dummy", action, params=params))
        assert result.rc == OcfRc.SUCCESS, (action, result)
    meta = ocf.describe("Dummy", "heartbeat")
    assert meta.name == "Dummy" and meta.parameter("state") is not None


def test_pacemaker_stateful_promotes_and_sets_scores(
    ocf: OcfAgentClass, tmp_path: Path, tool_recorder: Path
) -> None:
    require_system_agent("pacemaker", "Stateful")
    params = {"state": str(tmp_path / "stateful.state")}
    codes = [
        (action, run(ocf, request("ocf:pacemaker:Stateful", action, params=params)).rc)
        for action in (
            "monitor",
            "start",
            "monitor",
            "promote",
            "monitor",
            "demote",
            "monitor",
            "stop",
            "monitor",
        )
    ]
    assert codes == [
        ("monitor", 7),
        ("start", 0),
        ("monitor", 0),
        ("promote", 0),
        ("monitor", 8),
        ("demote", 0),
        ("monitor", 0),
        ("stop", 0),
        ("monitor", 7),
    ]
    calls = tool_recorder.read_text().splitlines()
    assert any(c.startswith("crm_attribute --promotion -v 10") for c in calls), calls
    assert any(c.startswith("crm_attribute --promotion -D") for c in calls), calls
    assert ocf.describe("Stateful", "pacemaker").promotable


def test_bundled_dummy_stateful_ping(
    ocf: OcfAgentClass, tmp_path: Path, tool_recorder: Path
) -> None:
    assert {"Dummy", "Stateful", "ping", "HttpService"} <= set(ocf.agents("hactl"))
    assert lifecycle(ocf, "ocf:hactl:Dummy", {"state": str(tmp_path / "d")}) == EXPECTED_LIFECYCLE
    params = {"state": str(tmp_path / "s")}
    codes = [
        run(ocf, request("ocf:hactl:Stateful", a, params=params)).rc
        for a in ("start", "promote", "monitor", "demote", "monitor", "stop", "monitor")
    ]
    assert codes == [0, 0, 8, 0, 0, 0, 7]
    calls = tool_recorder.read_text().splitlines()
    assert "crm_attribute --promotion -v 5 instance=r1" in calls
    assert "crm_attribute --promotion -v 10 instance=r1" in calls
    assert "crm_attribute --promotion -D instance=r1" in calls
    # ping: TCP reachability of a port that listens (this test's own) and of one that does not
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        ping = {
            "host_list": "127.0.0.1 localhost",
            "port": str(port),
            "multiplier": "100",
            "name": "net",
            "state": str(tmp_path / "p"),
            "timeout": "1",
        }
        assert run(ocf, request("ocf:hactl:ping", "start", params=ping)).rc == 0
    assert "attrd_updater -n net -v 200 -d 5s instance=r1" in tool_recorder.read_text()
    # the listener is gone now: nothing answers
    assert run(ocf, request("ocf:hactl:ping", "monitor", params=ping)).rc == 0
    assert "attrd_updater -n net -v 0 -d 5s instance=r1" in tool_recorder.read_text()
    assert run(ocf, request("ocf:hactl:ping", "stop", params=ping)).rc == 0
    assert "attrd_updater -D -n net -d 5s instance=r1" in tool_recorder.read_text()
    assert run(ocf, request("ocf:hactl:ping", "monitor", params=ping)).rc == 7


def test_bundled_ping_icmp_on_loopback(
    ocf: OcfAgentClass, tmp_path: Path, tool_recorder: Path
) -> None:
    ping = {"host_list": "127.0.0.1", "name": "icmp", "state": str(tmp_path / "p"), "timeout": "1"}
    assert run(ocf, request("ocf:hactl:ping", "start", params=ping)).rc == 0
    log = tool_recorder.read_text()
    if (
        "cannot open an ICMP socket"
        in run(ocf, request("ocf:hactl:ping", "monitor", params=ping)).stderr_tail
    ):
        pytest.skip("ICMP sockets are not allowed here (neither unprivileged nor raw)")
    assert "attrd_updater -n icmp -v 1 -d 5s instance=r1" in log
    run(ocf, request("ocf:hactl:ping", "stop", params=ping))


def test_bundled_http_service_serves_a_page(ocf: OcfAgentClass, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    params = {"port": str(port), "content": "hello from hactl", "pidfile": str(tmp_path / "pid")}
    try:
        assert run(ocf, request("ocf:hactl:HttpService", "monitor", params=params)).rc == 7
        assert run(ocf, request("ocf:hactl:HttpService", "start", params=params)).rc == 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
            assert page.read().decode().strip() == "hello from hactl"
        assert run(ocf, request("ocf:hactl:HttpService", "monitor", params=params)).rc == 0
        # a second instance on the same port cannot start, and says why
        clash = {**params, "pidfile": str(tmp_path / "pid2")}
        failed = run(ocf, request("ocf:hactl:HttpService", "start", params=clash))
        assert failed.rc == OcfRc.ERR_GENERIC and "already served" in failed.exit_reason
    finally:
        assert run(ocf, request("ocf:hactl:HttpService", "stop", params=params)).rc == 0
    assert run(ocf, request("ocf:hactl:HttpService", "monitor", params=params)).rc == 7
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)


def test_environment_is_pacemakers(
    ocf: OcfAgentClass, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCF_RESKEY_leaked", "from the caller's environment")
    dump = tmp_path / "env.json"
    result = run(
        ocf,
        OperationRequest(
            resource="db:1",
            agent="ocf:broken:EnvDump",
            action="notify",
            params={"dump": str(dump), "ip": "192.0.2.1", "OCF_CHECK_LEVEL": "10"},
            meta={
                "clone-max": "3",
                "clone": "1",
                **notification_meta(
                    "pre",
                    "start",
                    {"start": [("db:1", "n1"), ("db:2", "n2")]},
                    all_nodes=["n1", "n2"],
                ),
            },
            interval_ms=0,
            timeout_ms=7000,
            environment={"HA_SBIN_DIR": "/nowhere"},
        ),
    )
    assert result.rc == 0 and result.stdout_tail.strip() == "dumped"
    assert result.exit_reason == "as asked"
    seen = json.loads(dump.read_text())
    env = seen["env"]
    assert seen["argv"] == ["notify"]
    assert env["OCF_ROOT"] == "/usr/lib/ocf"
    assert (env["OCF_RA_VERSION_MAJOR"], env["OCF_RA_VERSION_MINOR"]) == ("1", "1")
    assert env["OCF_RESOURCE_INSTANCE"] == "db:1"
    assert env["OCF_RESOURCE_TYPE"] == "EnvDump"
    assert env["OCF_RESOURCE_PROVIDER"] == "broken"
    assert env["OCF_RESKEY_ip"] == "192.0.2.1"
    assert env["OCF_CHECK_LEVEL"] == "10" and "OCF_RESKEY_OCF_CHECK_LEVEL" not in env
    assert env["OCF_RESKEY_CRM_meta_clone_max"] == "3"
    assert env["OCF_RESKEY_CRM_meta_clone"] == "1"
    assert env["OCF_RESKEY_CRM_meta_timeout"] == "7000"
    assert "OCF_RESKEY_CRM_meta_interval" not in env  # only recurring operations have one
    assert env["OCF_RESKEY_CRM_meta_notify_type"] == "pre"
    assert env["OCF_RESKEY_CRM_meta_notify_operation"] == "start"
    assert env["OCF_RESKEY_CRM_meta_notify_start_resource"] == "db:1 db:2"
    assert env["OCF_RESKEY_CRM_meta_notify_start_uname"] == "n1 n2"
    assert env["OCF_RESKEY_CRM_meta_notify_stop_resource"] == " "
    assert env["OCF_RESKEY_CRM_meta_notify_all_uname"] == "n1 n2"
    assert env["OCF_EXIT_REASON_PREFIX"] == "ocf-exit-reason:"
    assert env["HA_SBIN_DIR"] == "/nowhere"
    assert "OCF_RESKEY_leaked" not in env
    recurring = run(
        ocf,
        OperationRequest(
            resource="db",
            agent="ocf:broken:EnvDump",
            action="monitor",
            params={"dump": str(dump)},
            interval_ms=10_000,
        ),
    )
    assert recurring.rc == 0
    env = json.loads(dump.read_text())["env"]
    assert env["OCF_RESKEY_CRM_meta_interval"] == "10000"
    assert env["OCF_RESKEY_CRM_meta_name"] == "monitor"


@pytest.mark.parametrize(
    ("code", "rc"), [(0, 0), (7, 7), (190, 190), (191, 191), (42, 1), (200, 1)]
)
def test_exit_codes_mapped_as_pacemaker_does(
    ocf: OcfAgentClass, tmp_path: Path, code: int, rc: int
) -> None:
    result = run(
        ocf,
        request(
            "ocf:broken:EnvDump", "monitor", params={"dump": str(tmp_path / "d"), "rc": str(code)}
        ),
    )
    assert (result.rc, result.status) == (rc, OperationStatus.DONE)
    if rc != code:
        assert f"returned undefined exit code {code}" in result.exit_reason
        assert "ocf:broken:EnvDump" in result.exit_reason


def test_bad_agents_give_clear_results(ocf: OcfAgentClass) -> None:
    missing = run(ocf, request("ocf:broken:NoSuchAgent", "start"))
    assert (missing.rc, missing.status) == (OcfRc.ERR_INSTALLED, OperationStatus.NOT_INSTALLED)
    assert "ocf:broken:NoSuchAgent is not installed" in missing.exit_reason

    not_executable = run(ocf, request("ocf:broken:NotExecutable", "start"))
    assert not_executable.rc == OcfRc.ERR_PERM
    assert "is not executable" in not_executable.exit_reason
    assert "NotExecutable" in not_executable.exit_reason

    started = time.monotonic()
    hung = run(ocf, request("ocf:broken:Hang", "start", timeout_ms=500))
    assert time.monotonic() - started < 5
    assert (hung.rc, hung.status) == (OcfRc.ERR_GENERIC, OperationStatus.TIMED_OUT)
    assert "ocf:broken:Hang start did not finish within 500 ms" in hung.exit_reason

    garbage = run(ocf, request("ocf:broken:Garbage", "start"))
    assert garbage.rc == OcfRc.ERR_GENERIC and "undefined exit code 42" in garbage.exit_reason

    with pytest.raises(MetadataError) as caught:
        ocf.describe("Garbage", "broken")
    assert "agent ocf:broken:Garbage" in str(caught.value)
    assert "not well-formed XML" in str(caught.value)
    with pytest.raises(NotFoundError, match="no OCF agent ocf:broken:Nope"):
        ocf.metadata("Nope", "broken")

    for bad_name in ("ocf:../../bin:sh", "ocf:Dummy", "nonsense"):
        invalid = run(ocf, request(bad_name, "start"))
        assert (invalid.rc, invalid.status) == (OcfRc.ERR_INSTALLED, OperationStatus.NOT_INSTALLED)
        assert bad_name in invalid.exit_reason


def test_discovery(ocf: OcfAgentClass) -> None:
    assert "broken" in ocf.providers() and "hactl" in ocf.providers()
    agents = ocf.agents("broken")
    assert "EnvDump" in agents and "NotExecutable" not in agents  # only executables
    assert "broken:Hang" in ocf.agents()
    assert ocf.search_dirs[0] == TEST_AGENTS  # configured directories come first


def test_an_action_ends_when_the_agent_exits(ocf: OcfAgentClass, tmp_path: Path) -> None:
    """A daemon left holding the agent's stdout must not keep the action waiting."""

    pidfile = tmp_path / "daemon.pid"
    began = time.monotonic()
    result = run(
        ocf,
        request(
            "ocf:broken:Daemonizes", "start", timeout_ms=20_000, params={"pidfile": str(pidfile)}
        ),
    )
    try:
        assert time.monotonic() - began < 10
        assert result.rc == 0 and result.stdout_tail.strip() == "started"
    finally:
        os.kill(int(pidfile.read_text()), signal.SIGKILL)


def test_timeout_kills_the_agents_helpers_too(ocf: OcfAgentClass, tmp_path: Path) -> None:
    pidfile = tmp_path / "helper.pid"
    result = run(
        ocf,
        request(
            "ocf:broken:HangWithChild", "start", timeout_ms=1500, params={"pidfile": str(pidfile)}
        ),
    )
    assert result.status == OperationStatus.TIMED_OUT
    helper = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{helper}/stat") as stat:
                if stat.read().split(") ")[1].startswith("Z"):
                    break  # a zombie waiting for its (killed) parent's reaper: dead
        except FileNotFoundError:
            break
        time.sleep(0.05)
    else:
        os.kill(helper, 9)
        raise AssertionError("the agent's helper outlived the timeout")


def test_environment_matches_pacemakers_own(ocf: OcfAgentClass, tmp_path: Path) -> None:
    """Pacemaker's services library as the oracle: `crm_resource --validate` runs an agent
    the way the executor does. It only looks in /usr/lib/ocf/resource.d (compiled in), so
    the dumping test agent is put there under a provider of its own for the moment of the
    test and removed after."""
    crm_resource = shutil.which("crm_resource") or "/usr/sbin/crm_resource"
    if not os.access(crm_resource, os.X_OK):
        pytest.skip("crm_resource is not installed (.ci/run installs pacemaker-cli-utils)")
    provider = f"hactl-oracle-{uuid.uuid4().hex[:8]}"
    directory = Path("/usr/lib/ocf/resource.d") / provider
    try:
        directory.mkdir(parents=True)
    except OSError as exc:
        pytest.skip(f"cannot add a provider to /usr/lib/ocf/resource.d: {exc.strerror}")
    try:
        shutil.copy(TEST_AGENTS / "broken" / "EnvDump", directory / "EnvDump")
        theirs_file, ours_file = tmp_path / "theirs.json", tmp_path / "ours.json"
        done = subprocess.run(
            [
                crm_resource,
                "--validate",
                "--class",
                "ocf",
                "--provider",
                provider,
                "--agent",
                "EnvDump",
                "--option",
                f"dump={theirs_file}",
                "--option",
                "ip=192.0.2.1",
                "--option",
                "OCF_CHECK_LEVEL=10",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        theirs = json.loads(theirs_file.read_text())
        feature_set = theirs["env"]["OCF_RESKEY_crm_feature_set"]
        result = run(
            ocf,
            OperationRequest(
                resource="test",
                agent=f"ocf:{provider}:EnvDump",
                action="validate-all",
                params={
                    "dump": str(ours_file),
                    "ip": "192.0.2.1",
                    "OCF_CHECK_LEVEL": "10",
                    "crm_feature_set": feature_set,
                },
                timeout_ms=20_000,
            ),
        )
        assert result.rc == 0, result
        ours = json.loads(ours_file.read_text())
    finally:
        shutil.rmtree(directory, ignore_errors=True)

    def ocf_variables(seen: dict[str, dict[str, str]]) -> dict[str, str]:
        # crm_resource's own output settings, not the executor's: text output, traces
        command_line_only = {"OCF_OUTPUT_FORMAT", "OCF_TRACE_FILE"}
        return {
            k: v
            for k, v in seen["env"].items()
            if k.startswith("OCF_") and k not in command_line_only
        }

    assert theirs["argv"] == ours["argv"] == ["validate-all"]
    their_vars = {k: v.replace(str(theirs_file), "DUMP") for k, v in ocf_variables(theirs).items()}
    our_vars = {k: v.replace(str(ours_file), "DUMP") for k, v in ocf_variables(ours).items()}
    assert our_vars == their_vars


@pytest.mark.parametrize("agent", ["heartbeat:IPaddr2", "heartbeat:Filesystem", "pacemaker:ping"])
def test_metadata_as_pacemaker_reads_it(ocf: OcfAgentClass, agent: str) -> None:
    """`crm_resource --show-metadata` as the oracle: the same agent, the same model."""
    provider, kind = agent.split(":")
    require_system_agent(provider, kind)
    crm_resource = shutil.which("crm_resource") or "/usr/sbin/crm_resource"
    if not os.access(crm_resource, os.X_OK):
        pytest.skip("crm_resource is not installed (.ci/run installs pacemaker-cli-utils)")
    shown = subprocess.run(
        [crm_resource, "--show-metadata", f"ocf:{agent}"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    assert ocf.describe(kind, provider) == parse_metadata(shown, source="crm_resource")
