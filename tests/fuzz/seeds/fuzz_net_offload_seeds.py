#!/usr/bin/env python3
"""Writes the fuzz_net seeds that reach offloads, mergeable buffers and
parked frames (tests/fuzz/seeds/fuzz_net/offload-* and park-*), in the
input format tests/fuzz/fuzz_net.c reads: run it after changing that."""
import os
import struct

ALL = 0xFFFFFFFF  # every feature the device offers in its low 32 bits
GUEST_CSUM, GUEST_TSO4, GUEST_TSO6 = 1 << 1, 1 << 7, 1 << 8
NO_GUEST_OFFLOADS = ALL & ~(GUEST_CSUM | GUEST_TSO4 | GUEST_TSO6)
MRG_RXBUF = 1 << 15


def u8(x):
    return bytes([x & 0xFF])


def u16(x):
    return struct.pack("<H", x & 0xFFFF)


def u32(x):
    return struct.pack("<I", x & 0xFFFFFFFF)


def start(features):
    """Every driver up, 64-entry queues, VM v negotiating features[v]."""
    return u8(1) + b"".join(u32(f) + u8(6) * 3 for f in features)


def seg(off, length):
    """One buffer at BUF_START + off of `length` (1..0x700) bytes."""
    return u16(off) + u16(length - 1)


def post_rx(vm, off, length=0x700):
    return u8(1) + u8(vm) + u8(0) + u8(0) + u16(0) + seg(off, length)


def tx_segs(offs, length):
    """Buffers at offs holding exactly `length` bytes (the device reads
    the whole of a chain's readable buffers)."""
    out = b""
    for i, off in enumerate(offs):
        n = min(0x700, length) if i + 1 < len(offs) else length
        out += seg(off, n)
        length -= n
    return out


def post_tx_plain(vm, to, payload, offs):
    mode = len(offs) - 1
    return (u8(1) + u8(vm) + u8(1) + u8(mode) + u8(to) + u16(payload) + bytes(payload) +
            tx_segs(offs, 12 + 6 + payload))


def post_tx_tcp(vm, to, how, payload, mss, offs):
    """A TCP segment (fuzz_net.c tcp_content): how bits 1 VLAN, 2 IPv6,
    4 NEEDS_CSUM, 8 GSO."""
    v6, vlan = how & 2, how & 1
    body = u8(0x80 | how)
    if not v6:
        body += u8(0)  # no IP options
    body += u8(1) + u16(payload)  # 4 bytes of TCP options
    body += bytes([0x52, 0x54, 0, 0x5E, 0, 0x20 + vm])  # source MAC
    if vlan:
        body += u16(0x0064)
    if v6:
        body += bytes(range(1, 33))
    else:
        body += u16(0x1234) + bytes([10, 0, 0, vm, 10, 0, 0, to])
    body += bytes([0x30, 0x39, 0x00, 0x50, 0x10, 0x20, 0x30, 0x40]) + u8(0x19)  # PSH FIN
    body += bytes([1, 1, 1, 0])  # TCP options: NOP NOP NOP EOL
    body += bytes((i * 7) & 0xFF for i in range(payload))
    body += u16(mss - 64) + u16(0) + u16(0)  # MSS, hdr_len, num_buffers
    l3 = 18 if vlan else 14
    length = 12 + l3 + (40 if v6 else 20) + 24 + payload
    mode = 0x40 | (len(offs) - 1)
    return u8(1) + u8(vm) + u8(1) + u8(mode) + u8(to) + body + tx_segs(offs, length)


def notify(vm, q):
    return u8(3) + u8(vm) + u8(q)


def tick_after(seconds_by):
    """The counter 1 s on (1 MHz), then the hypervisor's tick."""
    return u8(10) + u8(0) + u8(2) + u8(seconds_by - 1)


RX4 = [0, 0x700, 0xE00, 0x1500]
TX2 = [0x2800, 0x2F00]  # in the RAM's second region


def rx_chains(vm, offs):
    return b"".join(post_rx(vm, o) for o in offs)


SEEDS = {
    # a 3000-byte TSO frame to a receiver with every offload: whole, over
    # two mergeable buffers
    "offload-gso-whole": start([ALL] * 3) + rx_chains(1, RX4) +
    post_tx_tcp(2, 1, 8, 3000, 1448, TX2) + notify(2, 1),
    "offload-gso-v6-vlan-whole": start([ALL] * 3) + rx_chains(1, RX4) +
    post_tx_tcp(2, 1, 8 | 2 | 1, 3000, 1448, TX2) + notify(2, 1),
    # the same to one without: three segments
    "offload-gso-segments": start([ALL, NO_GUEST_OFFLOADS, ALL]) + rx_chains(1, RX4) +
    post_tx_tcp(2, 1, 8, 3000, 1448, TX2) + notify(2, 1),
    "offload-gso-v6-segments": start([ALL, NO_GUEST_OFFLOADS, ALL]) + rx_chains(1, RX4) +
    post_tx_tcp(2, 1, 8 | 2, 3000, 1000, TX2) + notify(2, 1),
    # a checksum left to the device: as it is, or finished by the switch
    "offload-csum-whole": start([ALL] * 3) + rx_chains(1, RX4) +
    post_tx_tcp(2, 1, 4, 1000, 1448, TX2[:1]) + notify(2, 1),
    "offload-csum-finished": start([ALL, NO_GUEST_OFFLOADS, ALL]) + rx_chains(1, RX4) +
    post_tx_tcp(2, 1, 4, 1000, 1448, TX2[:1]) + notify(2, 1),
    # broadcast with a checksum left to the device: finished for both
    "offload-csum-broadcast": start([ALL] * 3) + rx_chains(0, RX4[:2]) + rx_chains(1, RX4[2:]) +
    post_tx_tcp(2, 200, 4, 1000, 1448, TX2[:1]) + notify(2, 1),
    # no room: parked until the receiver adds a buffer and notifies
    "park-until-rx-notify": start([ALL] * 3) + post_tx_plain(2, 1, 100, TX2[:1]) +
    notify(2, 1) + post_tx_plain(2, 1, 200, TX2[1:]) + notify(2, 1) +
    rx_chains(1, RX4[:2]) + notify(1, 0),
    # a GSO frame waits for enough mergeable buffers
    "park-gso-mrg": start([ALL] * 3) + rx_chains(1, RX4[:1]) +
    post_tx_tcp(2, 1, 8, 3000, 1448, TX2) + notify(2, 1) + rx_chains(1, RX4[1:]) +
    notify(1, 0),
    # nobody adds room: dropped on the tick after 1 s, the receiver then
    # unresponsive (the next frame dropped at once) until it notifies
    "park-expires": start([ALL & ~MRG_RXBUF] * 3) + post_tx_plain(2, 1, 100, TX2[:1]) +
    notify(2, 1) + tick_after(1) + post_tx_plain(2, 1, 100, TX2[1:]) + notify(2, 1) +
    rx_chains(1, RX4[:1]) + notify(1, 0) + post_tx_plain(2, 1, 100, TX2[:1]) + notify(2, 1),
}

if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_net")
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
