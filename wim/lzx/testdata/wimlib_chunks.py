#!/usr/bin/env python3
"""Compress the chunks of a chunk file with wimlib's LZX codec (libwim.so.15
through its public API, as an oracle: no wimlib code is copied), write them
to a file the Go benchmarks decode, and time wimlib's decompression of them
(CPU time, best of REPS passes).

The chunk file holds (uint32 little-endian length, bytes) records, as
wim/xpress/testdata/wimlib_chunks.py --make writes it (32 KiB pieces of the
files of a tree). The output holds, for each chunk wimlib could shrink,
(uint32 plain length, uint32 compressed length, plain bytes, compressed
bytes); BenchmarkDecompressWimlibChunkFile decodes it with ours:

    python3 wim/lzx/testdata/wimlib_chunks.py CHUNKFILE OUTFILE [REPS [--reuse]]
    RESEAL_LZX_CHUNKS=OUTFILE go test -run X -bench WimlibChunkFile ./wim/lzx

With --reuse, OUTFILE is read rather than written (only wimlib's decoding
is timed). Only full 32 KiB chunks are kept, so that the window is never in doubt.
"""
import ctypes
import struct
import sys
import time

LZX = 2
CHUNK = 32768
lib = ctypes.CDLL("libwim.so.15")
lib.wimlib_compress.restype = ctypes.c_size_t
lib.wimlib_compress.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
lib.wimlib_decompress.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]

data = open(sys.argv[1], "rb").read()
reps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
chunks, p = [], 0
while p < len(data):
    n = struct.unpack_from("<I", data, p)[0]
    if n == CHUNK:
        chunks.append(data[p + 4:p + 4 + n])
    p += 4 + n
comp, dec = ctypes.c_void_p(), ctypes.c_void_p()
assert lib.wimlib_create_compressor(LZX, CHUNK, 0, ctypes.byref(comp)) == 0
assert lib.wimlib_create_decompressor(LZX, CHUNK, ctypes.byref(dec)) == 0
out = ctypes.create_string_buffer(CHUNK)
pairs = []
if len(sys.argv) > 4 and sys.argv[4] == "--reuse":
    # Time the decoding of an OUTFILE written before (no compression).
    packed, p = open(sys.argv[2], "rb").read(), 0
    while p < len(packed):
        n, k = struct.unpack_from("<II", packed, p)
        pairs.append((packed[p + 8:p + 8 + n], packed[p + 8 + n:p + 8 + n + k]))
        p += 8 + n + k
else:
    with open(sys.argv[2], "wb") as f:
        for c in chunks:
            n = lib.wimlib_compress(c, len(c), out, len(c) - 1, comp)
            if n:
                s = out.raw[:n]
                pairs.append((c, s))
                f.write(struct.pack("<II", len(c), n) + c + s)
dst = ctypes.create_string_buffer(CHUNK)
decoded = sum(len(c) for c, _ in pairs)
best = None
for _ in range(reps):
    t0 = time.process_time()
    for c, s in pairs:
        lib.wimlib_decompress(s, len(s), dst, len(c), dec)
    t = time.process_time() - t0
    best = t if best is None else min(best, t)
for c, s in pairs:
    assert lib.wimlib_decompress(s, len(s), dst, len(c), dec) == 0 and dst.raw == c
print("wimlib LZX: %d chunks, %d bytes; decompress CPU best of %d %.3f s (%.1f MB/s)"
      % (len(pairs), decoded, reps, best, decoded / best / 1e6))
