"""The hot path's hand-patched packets and fixed-offset parsing agree with scapy, byte for byte."""

from __future__ import annotations

import random
import struct

import pytest
from scapy.compat import raw
from scapy.layers.inet import ICMP, IP

from collectors.probes.engine import EchoTemplate, icmp_echo_filter, parse_echo_reply
from collectors.probes.tcp import tcp_dport_filter


@pytest.mark.parametrize("payload", [0, 1, 56, 57, 1000])
def test_template_packets_equal_scapy_builds(payload: int) -> None:
    rng = random.Random(7)
    for _ in range(200):
        ident = rng.randrange(65536)
        tpl = EchoTemplate.build(ident, payload)
        seq = rng.choice([0, 1, 255, 256, 65535, rng.randrange(65536)])
        expected = raw(ICMP(type=8, id=ident, seq=seq) / tpl.data[8:])
        assert tpl.packet(seq) == expected


def test_template_checksums_verify() -> None:
    tpl = EchoTemplate.build(0xBEEF, 56)
    for seq in range(0, 65536, 97):
        pkt = tpl.packet(seq)
        words = struct.unpack(f"!{len(pkt) // 2}H", pkt)
        total = sum(words)
        while total >> 16:
            total = (total & 0xFFFF) + (total >> 16)
        assert total == 0xFFFF


def test_scapy_parse_of_reply() -> None:
    reply = raw(IP(src="10.213.9.9", dst="10.213.9.1") / ICMP(type=0, id=4242, seq=17) / (b"x" * 8))
    parsed = parse_echo_reply(reply)
    assert parsed is not None
    assert (parsed.source, parsed.ident, parsed.seq) == ("10.213.9.9", 4242, 17)
    # the engine's fixed offsets read the same key as scapy's dissection
    ihl = (reply[0] & 0x0F) << 2
    assert reply[12:16] + reply[ihl + 4: ihl + 8] == bytes([10, 213, 9, 9]) + struct.pack("!HH", 4242, 17)
    request = raw(IP(src="10.213.9.9", dst="10.213.9.1") / ICMP(type=8, id=1, seq=1))
    assert parse_echo_reply(request) is None


def _run_bpf(program: list[tuple[int, int, int, int]], pkt: bytes) -> int:
    """A tiny classic-BPF interpreter for the instructions our filters use."""
    a = x = pc = 0
    while True:
        code, jt, jf, k = program[pc]
        pc += 1
        if code == 0xB1:
            x = 4 * (pkt[k] & 0x0F)
        elif code == 0x50:
            a = pkt[x + k]
        elif code == 0x48:
            a = struct.unpack_from("!H", pkt, x + k)[0]
        elif code == 0x15:
            pc += jt if a == k else jf
        elif code == 0x06:
            return k
        else:  # pragma: no cover
            raise AssertionError(f"unknown BPF opcode {code:#x}")


def test_bpf_filters_select_what_they_claim() -> None:
    prog = icmp_echo_filter(4242)
    ok = raw(IP(src="10.213.1.2", dst="10.213.1.1") / ICMP(type=0, id=4242, seq=3))
    other_id = raw(IP(src="10.213.1.2", dst="10.213.1.1") / ICMP(type=0, id=4243, seq=3))
    request = raw(IP(src="10.213.1.2", dst="10.213.1.1") / ICMP(type=8, id=4242, seq=3))
    with_options = raw(IP(src="10.213.1.2", dst="10.213.1.1", options=b"\x01\x01\x01\x00") /
                       ICMP(type=0, id=4242, seq=3))
    assert _run_bpf(prog, ok) > 0
    assert _run_bpf(prog, with_options) > 0
    assert _run_bpf(prog, other_id) == 0
    assert _run_bpf(prog, request) == 0

    from scapy.layers.inet import TCP

    tprog = tcp_dport_filter(40000)
    assert _run_bpf(tprog, raw(IP() / TCP(sport=80, dport=40000, flags="SA"))) > 0
    assert _run_bpf(tprog, raw(IP() / TCP(sport=80, dport=40001, flags="SA"))) == 0
