#!/usr/bin/env python3
"""Compress and decompress the chunks of a chunk file with wimlib's XPRESS
codec (libwim.so.15 through its public API, as an oracle: no wimlib code is
copied), printing the compressed size and the CPU time of each direction.

The chunk file holds (uint32 little-endian length, bytes) records, the same
file BenchmarkCompressChunkFile and BenchmarkDecompressChunkFile read from
RESEAL_XPRESS_CHUNKS, so the two codecs see the same chunks:

    python3 wim/xpress/testdata/wimlib_chunks.py CHUNKFILE [LEVEL]
    RESEAL_XPRESS_CHUNKS=CHUNKFILE go test -run XXX -bench ChunkFile ./wim/xpress

Chunks that do not shrink count at their raw size, as in a WIM.

    python3 wim/xpress/testdata/wimlib_chunks.py --make CHUNKFILE MBYTES DIR...

writes a chunk file: every regular file under the DIRs, in a fixed shuffled
order, cut into 32 KiB chunks as the WIM writer cuts it, until MBYTES.
"""
import ctypes
import struct
import sys
import time

if sys.argv[1] == "--make":
    import os
    import random
    files = []
    for top in sys.argv[4:]:
        for root, dirs, names in os.walk(top):
            dirs.sort()
            files += [os.path.join(root, n) for n in sorted(names)]
    random.Random(1).shuffle(files)
    limit, total = int(sys.argv[3]) * 1000000, 0
    with open(sys.argv[2], "wb") as f:
        for path in files:
            if total > limit or os.path.islink(path) or not os.path.isfile(path):
                continue
            body = open(path, "rb").read()
            for off in range(0, len(body), 32768):
                chunk = body[off:off + 32768]
                f.write(struct.pack("<I", len(chunk)) + chunk)
                total += len(chunk)
    print(total)
    sys.exit(0)

XPRESS = 1
lib = ctypes.CDLL("libwim.so.15")
lib.wimlib_compress.restype = ctypes.c_size_t
lib.wimlib_compress.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
lib.wimlib_decompress.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]

data = open(sys.argv[1], "rb").read()
level = int(sys.argv[2]) if len(sys.argv) > 2 else 0  # 0: wimlib's default
chunks, p = [], 0
while p < len(data):
    n = struct.unpack_from("<I", data, p)[0]
    chunks.append(data[p + 4:p + 4 + n])
    p += 4 + n
maxchunk = max(len(c) for c in chunks)
comp, dec = ctypes.c_void_p(), ctypes.c_void_p()
assert lib.wimlib_create_compressor(XPRESS, maxchunk, level, ctypes.byref(comp)) == 0
assert lib.wimlib_create_decompressor(XPRESS, maxchunk, ctypes.byref(dec)) == 0
out = ctypes.create_string_buffer(maxchunk)
raw = sum(len(c) for c in chunks)
stored, packed = 0, []
t0 = time.process_time()
for c in chunks:
    n = lib.wimlib_compress(c, len(c), out, len(c) - 1, comp)
    packed.append(out.raw[:n] if n else None)
    stored += n or len(c)
t1 = time.process_time()
dst = ctypes.create_string_buffer(maxchunk)
decoded = 0
t2 = time.process_time()
for c, s in zip(chunks, packed):
    if s is not None:
        assert lib.wimlib_decompress(s, len(s), dst, len(c), dec) == 0
        decoded += len(c)
t3 = time.process_time()
print("wimlib XPRESS level %d: raw %d stored %d (%.4f); compress CPU %.3f s (%.1f MB/s); decompress CPU %.3f s (%.1f MB/s)"
      % (level, raw, stored, stored / raw, t1 - t0, raw / (t1 - t0) / 1e6, t3 - t2, decoded / (t3 - t2) / 1e6))
