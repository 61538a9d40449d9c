#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Walk an umbra dump's frames from docs/FORMAT.md alone (no umbra code),
for the verify/recover test.

  analyze_frames.py list FILE          JSON: blocks (offset, records, csize),
                                       intervals, index offset, size
  analyze_frames.py flip FILE OFFSET   XOR the byte at OFFSET with 0x40
  analyze_frames.py truncate FILE N    keep the first N bytes
"""
import json
import struct
import sys

BLOCK, INTERVAL, INDEX, HEADER = 0x184D2A56, 0x184D2A57, 0x184D2A58, 0x184D2A55


def frames(b):
    out = {"size": len(b), "blocks": [], "intervals": [], "index": None}
    o = 0
    while o + 8 <= len(b):
        magic, sz = struct.unpack_from("<II", b, o)
        if magic == BLOCK:
            n, = struct.unpack_from("<I", b, o + 8)
            csize, = struct.unpack_from("<I", b, o + 8 + 28)
            out["blocks"].append({"offset": o, "records": n, "csize": csize,
                                  "data": o + 8 + sz, "end": o + 8 + sz + csize})
            o += 8 + sz + csize
            continue
        if magic == INTERVAL:
            out["intervals"].append(o)
        elif magic == INDEX:
            out["index"] = o
        elif magic != HEADER:
            raise SystemExit("unexpected frame magic %#x at %d" % (magic, o))
        o += 8 + sz
    return out


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    if cmd == "list":
        print(json.dumps(frames(open(path, "rb").read())))
    elif cmd == "flip":
        off = int(sys.argv[3])
        with open(path, "r+b") as f:
            f.seek(off)
            c = f.read(1)[0]
            f.seek(off)
            f.write(bytes([c ^ 0x40]))
    elif cmd == "truncate":
        with open(path, "r+b") as f:
            f.truncate(int(sys.argv[3]))
    else:
        raise SystemExit("unknown command")


if __name__ == "__main__":
    main()
