"""A BMC for the IPMI tests: pyghmi's server side, on loopback, holding one power state.

Run as ``python bmc_server.py PORT USER [--record FILE] [--fail-when FLAG]`` with the password
on the first line of stdin; it prints ``ready`` once listening. ``--record`` appends one JSON
line per power change asked (``{"action": "off", "time": <epoch>, "ok": true}``) to FILE, so
a test can tell when a node was fenced; while the file FLAG exists, every power change fails
(completion code 0xD5, "not supported in present state"), as a broken BMC's do.

pyghmi's server implements only cipher suite 3 but would acknowledge suite 17, on which the
client then fails; so open-session requests for any other suite are refused (RMCP+ status
0x11), and clients fall back to suite 3.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from pyghmi.ipmi import bmc
from pyghmi.ipmi.private import serversession

NO_MATCHING_CIPHER_SUITE = 0x11
NOT_IN_PRESENT_STATE = 0xD5
_SHA1_AUTH = 1  # the authentication algorithm of suite 3
_RMCPPLUS_OPEN_REQUEST = 0x10


class Suite3Session(serversession.ServerSession):
    def create_open_session_response(self, request: bytearray) -> bytearray:
        if request[12] != _SHA1_AUTH:
            self.clientsessionid = request[4:8]
            return bytearray([request[0], NO_MATCHING_CIPHER_SUITE, 0, 0]) + request[4:8]
        response: bytearray = super().create_open_session_response(request)
        return response


class PowerBmc(bmc.Bmc):
    def __init__(
        self,
        authdata: dict[str, str],
        port: int,
        record: str | None = None,
        fail_when: str | None = None,
    ) -> None:
        super().__init__(authdata, port=port, address="127.0.0.1")
        self.power = "on"
        self.record = record
        self.fail_when = fail_when

    def sessionless_data(self, data: bytes, sockaddr: object) -> None:
        raw = bytearray(data)
        if (
            len(raw) >= 22
            and raw[0] == 6
            and raw[2:4] == b"\xff\x07"
            and raw[4] == 6
            and raw[5] == _RMCPPLUS_OPEN_REQUEST
        ):
            Suite3Session(
                self.authdata, self.kg, sockaddr, self.serversocket, raw[16:], self.uuid, bmc=self
            )
            return
        super().sessionless_data(data, sockaddr)

    def _change(self, action: str, power: str) -> int:
        failing = self.fail_when is not None and os.path.exists(self.fail_when)
        if self.record is not None:
            with open(self.record, "a") as out:
                out.write(json.dumps({"action": action, "time": time.time(), "ok": not failing}))
                out.write("\n")
        if failing:
            return NOT_IN_PRESENT_STATE
        self.power = power
        return 0

    def get_power_state(self) -> str:
        return self.power

    def power_on(self) -> int:
        return self._change("on", "on")

    def power_off(self) -> int:
        return self._change("off", "off")

    def power_reset(self) -> int:
        return self._change("reset", self.power)  # a reset leaves the power as it is

    def power_cycle(self) -> int:
        return self._change("cycle", "on")

    def power_shutdown(self) -> int:
        return self._change("shutdown", "off")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("user")
    parser.add_argument("--record")
    parser.add_argument("--fail-when")
    args = parser.parse_args()
    password = sys.stdin.readline().rstrip("\n")
    server = PowerBmc({args.user: password}, args.port, args.record, args.fail_when)
    print("ready", flush=True)
    server.listen()


if __name__ == "__main__":
    main()
