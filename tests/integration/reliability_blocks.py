#!/usr/bin/env python3
"""Count what a dump file holds, frame by frame (docs/FORMAT.md), without
umbra's reader: the independent side of the kill -9 test.

  reliability_blocks.py FILE  ->  JSON {"blocks", "records", "intervals",
                                        "torn_bytes", "size"}

A block counts when its block-header frame and the whole data frame that
follows lie inside the file and the data frame starts with zstd's magic;
the walk stops at the first frame that runs past the end (a torn tail).
"""
import json
import struct
import sys

SKIP_LO, SKIP_HI = 0x184D2A50, 0x184D2A5F
BLOCK, INTERVAL = 0x184D2A56, 0x184D2A57
ZSTD = 0xFD2FB528


def walk(data):
    off, blocks, records, intervals = 0, 0, 0, 0
    n = len(data)
    while off + 8 <= n:
        magic, size = struct.unpack_from("<II", data, off)
        if not SKIP_LO <= magic <= SKIP_HI:
            break  # a data frame without its block header: not ours
        end = off + 8 + size
        if end > n:
            break
        if magic == BLOCK:
            if size != 48 or end + 4 > n:
                break
            count = struct.unpack_from("<I", data, off + 8)[0]
            csize = struct.unpack_from("<I", data, off + 8 + 28)[0]
            if struct.unpack_from("<I", data, end)[0] != ZSTD or end + csize > n:
                break
            blocks += 1
            records += count
            end += csize
        elif magic == INTERVAL:
            intervals += 1
        off = end
    return {"blocks": blocks, "records": records, "intervals": intervals,
            "torn_bytes": n - off, "size": n}


if __name__ == "__main__":
    with open(sys.argv[1], "rb") as f:
        print(json.dumps(walk(f.read())))
