"""SHA-1 (FIPS 180-4) of a byte span, compiled with numba: datasketch's default ``sha1_hash32``.

``datasketch.hashfunc.sha1_hash32(b)`` is ``struct.unpack('<I', hashlib.sha1(b).digest()[:4])[0]``:
the first four digest bytes read little-endian. Calling ``hashlib`` once per shingle from Python costs
more than the whole MinHash, so the compression function is reimplemented here and run inside the
signature kernel; the interop tests compare it with ``hashlib`` on random byte strings.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_M32 = 0xFFFFFFFF


@nb.njit(cache=True, inline="always")
def _rotl(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF


@nb.njit(cache=True)
def _compress(block: np.ndarray, w: np.ndarray, state: np.ndarray) -> None:
    """One 64-byte block into the five-word state (SHA-1 compression function)."""
    for i in range(16):
        j = 4 * i
        w[i] = (int(block[j]) << 24) | (int(block[j + 1]) << 16) | (int(block[j + 2]) << 8) | int(block[j + 3])
    for i in range(16, 80):
        w[i] = _rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1)
    a, b, c, d, e = state[0], state[1], state[2], state[3], state[4]
    for i in range(20):  # four round groups as separate loops: no branch in the hot loop
        tmp = (_rotl(a, 5) + ((b & c) | ((~b) & d)) + e + 0x5A827999 + w[i]) & _M32
        e, d, c, b, a = d, c, _rotl(b, 30), a, tmp
    for i in range(20, 40):
        tmp = (_rotl(a, 5) + (b ^ c ^ d) + e + 0x6ED9EBA1 + w[i]) & _M32
        e, d, c, b, a = d, c, _rotl(b, 30), a, tmp
    for i in range(40, 60):
        tmp = (_rotl(a, 5) + ((b & c) | (b & d) | (c & d)) + e + 0x8F1BBCDC + w[i]) & _M32
        e, d, c, b, a = d, c, _rotl(b, 30), a, tmp
    for i in range(60, 80):
        tmp = (_rotl(a, 5) + (b ^ c ^ d) + e + 0xCA62C1D6 + w[i]) & _M32
        e, d, c, b, a = d, c, _rotl(b, 30), a, tmp
    state[0] = (state[0] + a) & _M32
    state[1] = (state[1] + b) & _M32
    state[2] = (state[2] + c) & _M32
    state[3] = (state[3] + d) & _M32
    state[4] = (state[4] + e) & _M32


@nb.njit(cache=True)
def sha1_hash32(buf: np.ndarray, start: int, end: int, block: np.ndarray, w: np.ndarray, state: np.ndarray) -> int:
    """First 4 bytes of SHA-1(buf[start:end]), little-endian; ``block``/``w``/``state`` are scratch arrays
    (uint8[64], int64[80], int64[5]) reused across calls so the hot loop allocates nothing."""
    state[0], state[1], state[2], state[3], state[4] = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0
    length = end - start
    pos = start
    while end - pos >= 64:
        block[:] = buf[pos : pos + 64]
        _compress(block, w, state)
        pos += 64
    rest = end - pos
    block[:] = 0
    block[:rest] = buf[pos:end]
    block[rest] = 0x80
    if rest >= 56:
        _compress(block, w, state)
        block[:] = 0
    bits = length * 8
    for i in range(8):
        block[63 - i] = (bits >> (8 * i)) & 0xFF
    _compress(block, w, state)
    h0 = state[0]
    return ((h0 & 0xFF) << 24) | (((h0 >> 8) & 0xFF) << 16) | (((h0 >> 16) & 0xFF) << 8) | (h0 >> 24)
