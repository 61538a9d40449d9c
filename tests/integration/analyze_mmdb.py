#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write a small MaxMind DB (format 2.0, IPv4 tree, 24-bit records) from
"CIDR ASN [COUNTRY]" lines (non-overlapping IPv4 prefixes), for the
--mmdb test. Follows the public MaxMind
DB specification; mmdblookup (Debian mmdb-bin) reads the result.

  analyze_mmdb.py IN.txt OUT.mmdb
"""
import ipaddress
import struct
import sys
import time


def ctrl(typ, size):
    """control byte(s) for a data field of type typ and payload size"""
    if size < 29:
        s = bytes([size])
        ext = b""
    elif size < 29 + 256:
        s, ext = bytes([29]), bytes([size - 29])
    else:
        s, ext = bytes([30]), struct.pack(">H", size - 285)
    if typ <= 7:
        return bytes([typ << 5 | s[0]]) + ext
    return bytes([s[0], typ - 7]) + ext


def enc(v):
    if isinstance(v, str):
        b = v.encode()
        return ctrl(2, len(b)) + b
    if isinstance(v, dict):
        out = ctrl(7, len(v))
        for k, x in v.items():
            out += enc(k) + x
        return out
    raise TypeError(v)


def uint(typ, v, width):
    b = v.to_bytes(width, "big").lstrip(b"\0")
    return ctrl(typ, len(b)) + b


def main():
    nets = []
    for line in open(sys.argv[1]):
        line = line.split("#")[0].split()
        if not line:
            continue
        net = ipaddress.ip_network(line[0])
        data = {"autonomous_system_number": uint(6, int(line[1]), 4)}
        if len(line) > 2:
            data["country"] = enc({"iso_code": enc(line[2])})
        nets.append((net, enc(data)))

    # binary trie over 32 bits; leaves carry a data index
    root = [None, None]
    for i, (net, _) in enumerate(nets):
        node, bits = root, int(net.network_address)
        for d in range(net.prefixlen):
            b = (bits >> (31 - d)) & 1
            if d == net.prefixlen - 1:
                node[b] = ("data", i)
            else:
                if not isinstance(node[b], list):
                    node[b] = [None, None]
                node = node[b]
    # number the nodes breadth first
    order, queue = [], [root]
    while queue:
        n = queue.pop(0)
        order.append(n)
        queue.extend(c for c in n if isinstance(c, list))
    index = {id(n): i for i, n in enumerate(order)}
    count = len(order)
    # data section: one map per network
    data, offsets = b"", []
    for _, d in nets:
        offsets.append(len(data))
        data += d

    def rec(c):
        if c is None:
            return count                      # no data
        if isinstance(c, list):
            return index[id(c)]
        return count + 16 + offsets[c[1]]     # pointer into the data section

    tree = b""
    for n in order:
        tree += rec(n[0]).to_bytes(3, "big") + rec(n[1]).to_bytes(3, "big")
    meta = enc({
        "node_count": uint(6, count, 4),
        "record_size": uint(5, 24, 2),
        "ip_version": uint(5, 4, 2),
        "database_type": enc("umbra-test"),
        "languages": ctrl(11, 0),
        "binary_format_major_version": uint(5, 2, 2),
        "binary_format_minor_version": uint(5, 0, 2),
        "build_epoch": uint(9, int(time.time()), 8),
        "description": enc({"en": enc("umbra test database")}),
    })
    with open(sys.argv[2], "wb") as f:
        f.write(tree + b"\0" * 16 + data + b"\xab\xcd\xefMaxMind.com" + meta)


if __name__ == "__main__":
    main()
