#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Is a PNG screenshot blank? (python3-pil)

  analyze_png.py FILE   prints "WxH nonwhite=F colors=N" and exits 1 when
                        fewer than 2% of the pixels differ from the most
                        common colour, or fewer than 8 colours appear
"""
import sys

from PIL import Image


def main():
    im = Image.open(sys.argv[1]).convert("RGB")
    w, h = im.size
    colors = im.getcolors(maxcolors=1 << 24)
    total = w * h
    top = max(c for c, _ in colors)
    nonwhite = 1 - top / total
    print("%dx%d nonwhite=%.3f colors=%d" % (w, h, nonwhite, len(colors)))
    sys.exit(0 if nonwhite >= 0.02 and len(colors) >= 8 else 1)


if __name__ == "__main__":
    main()
