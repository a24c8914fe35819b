"""A BMC for the IPMI tests: pyghmi's server side, on loopback, holding one power state.

Run as ``python bmc_server.py PORT USER`` with the password on the first line of stdin; it
prints ``ready`` once listening. pyghmi's server implements only cipher suite 3 but would
acknowledge suite 17, on which the client then fails; so open-session requests for any
other suite are refused (RMCP+ status 0x11), and clients fall back to suite 3.
"""

from __future__ import annotations

import sys

from pyghmi.ipmi import bmc
from pyghmi.ipmi.private import serversession

NO_MATCHING_CIPHER_SUITE = 0x11
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
    def __init__(self, authdata: dict[str, str], port: int) -> None:
        super().__init__(authdata, port=port, address="127.0.0.1")
        self.power = "on"

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

    def get_power_state(self) -> str:
        return self.power

    def power_on(self) -> None:
        self.power = "on"

    def power_off(self) -> None:
        self.power = "off"

    def power_reset(self) -> None:
        pass  # a reset leaves the power on

    def power_cycle(self) -> None:
        self.power = "on"

    def power_shutdown(self) -> None:
        self.power = "off"


def main() -> None:
    port, user = int(sys.argv[1]), sys.argv[2]
    password = sys.stdin.readline().rstrip("\n")
    server = PowerBmc({user: password}, port)
    print("ready", flush=True)
    server.listen()


if __name__ == "__main__":
    main()
