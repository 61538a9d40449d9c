#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Walk an umbra dump's frames from docs/FORMAT.md alone (no umbra code),
for the verify/recover test.

  analyze_frames.py list FILE          JSON: blocks (offset, records, csize,
                                       key: size of the first zstd frame of
                                       the data), intervals, index offset, size
  analyze_frames.py flip FILE OFFSET   XOR the byte at OFFSET with 0x40
  analyze_frames.py truncate FILE N    keep the first N bytes
"""
import json
import struct
import sys

BLOCK, INTERVAL, INDEX, HEADER = 0x184D2A56, 0x184D2A57, 0x184D2A58, 0x184D2A55


def zstd_frame_size(b, o):
    """Bytes of the zstd frame at b[o:] (RFC 8878: header, blocks, checksum)."""
    start = o
    if struct.unpack_from("<I", b, o)[0] != 0xFD2FB528:
        raise SystemExit("no zstd frame at %d" % o)
    fhd = b[o + 4]
    single = fhd >> 5 & 1
    o += 5 + (0 if single else 1) + (0, 1, 2, 4)[fhd & 3]
    o += ((1 if single else 0), 2, 4, 8)[fhd >> 6]
    while True:
        h = b[o] | b[o + 1] << 8 | b[o + 2] << 16
        last, btype, bsize = h & 1, h >> 1 & 3, h >> 3
        o += 3 + (1 if btype == 1 else bsize)
        if last:
            break
    return o + (4 if fhd >> 2 & 1 else 0) - start


def frames(b):
    out = {"size": len(b), "blocks": [], "intervals": [], "index": None}
    o = 0
    while o + 8 <= len(b):
        magic, sz = struct.unpack_from("<II", b, o)
        if magic == BLOCK:
            n, = struct.unpack_from("<I", b, o + 8)
            csize, = struct.unpack_from("<I", b, o + 8 + 28)
            data = o + 8 + sz
            out["blocks"].append({"offset": o, "records": n, "csize": csize,
                                  "data": data, "end": data + csize,
                                  "key": zstd_frame_size(b, data)})
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
