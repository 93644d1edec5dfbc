"""`java.lang.Math.sin` and `cos` as HotSpot computes them on x86-64, vectorized with numpy: the
values Apache Spark's `sin`, `cos`, `sec` and `csc` return there.

HotSpot replaces `Math.sin` / `Math.cos` on x86-64 by stubs from Intel's LIBM
(`StubRoutines::dsin` / `dcos`, `macroAssembler_x86_sin.cpp` / `_cos.cpp` in openjdk; the
interpreter and both compilers call them while `UseLibmIntrinsic` is on, the default), not by
fdlibm, so `StrictMath`'s port (`fdlibm.py`) does not give Spark's bits. The stub's algorithm:

1. |x| < 90112: N = round(x * 32/pi); r = x - N * (P_1 + P_2 + P_3) kept as r and a correction
   c; B = (N mod 64) * pi/32 read from a table (`hotspot_trig_constants.py`).
2. sin(B + r + c) = S_hi + sigma * r + C_hl * r (two compensated sums) + a polynomial of r in
   two SIMD lanes (sin(r) - r, cos(r) - 1) + S_lo + c * (C_hl + sigma - S_hi * r); cos is sin
   at B + pi/2 (M + 16).
3. Larger |x|: x * 2/pi in 32-bit words (integer products, a Payne-Hanek reduction) gives the
   octant and a remainder r_hi + r_lo times pi/4, which then goes through 1. and 2.
4. Tiny |x| (< 2**-252): sin is x (subnormals: x * (1 - 2**-53), else (2**55 x - x) / 2**55),
   cos 1 - |x|; NaN and the infinities give NaN.

Each double statement below is one SSE2 operation of the stub, in its order (numpy performs
each as one correctly rounded IEEE operation, no fused multiply-add, as SSE2 does); the integer
steps compute what the stub's registers hold at their widths (its multi-word product is exact, so
it is summed here by columns); where the stub branches per value, the port computes each branch
on the values that take it. aarch64 HotSpot has other stubs
(fdlibm's algorithm with fused multiply-adds): this is Spark's answer on x86-64 only.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

# Names, not the module: a module referenced by a UDF pickled by value travels with its whole
# namespace, loader included (pytest's assertion-rewriting loader cannot be pickled).
from lakesmith.engine.semantics.hotspot_trig_constants import (
    P_1,
    P_2,
    P_3,
    PI32_INV,
    PI_4_HI,
    PI_4_LO,
    SC_1,
    SC_2,
    SC_3,
    SC_4,
    TABLE,
    TWO_OVER_PI_WORDS,
)

Doubles = NDArray[np.float64]
Words = NDArray[np.uint64]

_SIN_OFFSET, _COS_OFFSET = 0, 16  # cos x = sin(x + pi/2): 16 table steps of pi/32
_LOW32 = np.uint64(0xFFFFFFFF)


def sin(values: Doubles) -> Doubles:
    """`Math.sin` of each value, HotSpot x86-64 (`StubRoutines::dsin`)."""
    return _evaluate(values, _SIN_OFFSET)


def cos(values: Doubles) -> Doubles:
    """`Math.cos` of each value, HotSpot x86-64 (`StubRoutines::dcos`)."""
    return _evaluate(values, _COS_OFFSET)


def _evaluate(values: Doubles, offset: int) -> Doubles:
    with np.errstate(all="ignore"):
        x = np.ascontiguousarray(values, dtype=np.float64)
        high = (x.view(np.uint64) >> np.uint64(32)).astype(np.int64)
        # the stub's first test: (high & 0x7fff0000) - 0x30300000, unsigned and signed
        biased = ((high & 0x7FFF0000) - 0x30300000) & 0xFFFFFFFF
        main = biased <= 0x10C50000  # 2**-252 <= |x| < 90112
        signed = np.where(biased >= 2**31, biased - 2**32, biased)
        large = ~main & (signed > 0x10C50000)  # |x| >= 90112, the infinities and NaN
        tiny = ~main & ~large
        if main.all():  # the common case: no copies in and out
            return _from_reduced(x, 0.0, offset)
        result = np.empty_like(x)
        result[main] = _from_reduced(x[main], 0.0, offset)
        result[tiny] = _tiny(x[tiny], biased[tiny], offset)
        result[large] = _large(x[large], offset)
        return result


def _tiny(x: Doubles, biased: NDArray[np.int64], offset: int) -> Doubles:
    """|x| < 2**-252: sin x is x (rounded as the stub does), cos x is 1 - |x|."""
    if offset == _COS_OFFSET:
        return 1.0 - np.abs(x)
    zero_exponent = (biased >> 20) == 3325  # ±0 and subnormals
    scaled = (2.0**55 * x - x) * 2.0**-55
    below_one = float.fromhex("0x1.fffffffffffffp-1")
    result: Doubles = np.where(zero_exponent, x * below_one, scaled)
    return result


def _from_reduced(x: Doubles, low: Doubles | float, shift: NDArray[np.int64] | int) -> Doubles:
    """sin of x + low + shift * pi/32 (x the argument or the reduced remainder's high part,
    `low` its low part): the stub's main path, operation by operation."""
    half = np.copysign(0.5, x)
    n_int = np.trunc(x * PI32_INV + half).astype(np.int64)  # cvttsd2si
    n = n_int.astype(np.float64)
    entry = TABLE[(n_int + shift) & 63]
    c_hl, s_hi, s_lo, sigma = entry[:, 0], entry[:, 1], entry[:, 2], entry[:, 3]
    m1 = P_1 * n
    m2 = P_2 * n
    r1 = x - m1
    m3 = n * P_3
    r = r1 - m2
    sin_lane = SC_4[0] * r1
    cos_lane = SC_4[1] * r1
    s_hi_r = s_hi * r
    c1 = r1 - r
    sin_lane = sin_lane * r
    cos_lane = cos_lane * r
    r2 = r * r
    c2 = c1 - m2
    minus_c = m3 - c2
    minus_c = minus_c - low
    cos_b = c_hl + sigma
    minus_d = s_hi_r - cos_b
    cos_b_r = cos_b * r
    sin_poly = SC_2[0] * r2
    cos_poly = SC_2[1] * r2
    rs = sigma * r
    cos_b_r3 = cos_b_r * r2
    s_hi_r2 = s_hi * r2
    r4 = r2 * r2
    sin_lane = sin_lane + SC_3[0]
    cos_lane = cos_lane + SC_3[1]
    med = r * c_hl
    sin_poly = sin_poly + SC_1[0]
    cos_poly = cos_poly + SC_1[1]
    sin_lane = sin_lane * r4
    cos_lane = cos_lane * r4
    res_int = rs + s_hi
    corr = minus_c * minus_d
    res_hi = med + res_int
    sin_poly = sin_poly + sin_lane
    cos_poly = cos_poly + cos_lane
    k0 = s_hi - res_int
    k1 = res_int - res_hi
    corr = corr + s_lo
    pols_lo = sin_poly * cos_b_r3
    pols_hi = cos_poly * s_hi_r2
    k2 = k0 + rs
    k3 = k1 + med
    total = corr + k2
    total = total + k3
    total = total + pols_lo
    total = total + pols_hi
    result: Doubles = res_hi + total
    return result


def _large(x: Doubles, offset: int) -> Doubles:
    """|x| >= 90112: NaN for NaN and the infinities, else the multi-word reduction by 2/pi."""
    finite = np.isfinite(x)
    result = x * -0.0  # NaN
    if finite.any():
        high, low, octant = _reduce(x[finite])
        result[finite] = _from_reduced(high, low, offset + 8 * octant)
    return result


def _u(value: NDArray[np.int64] | int) -> Words:
    return np.asarray(value).astype(np.uint64)


def _shl(value: Words, count: NDArray[np.int64]) -> Words:
    """A 64-bit shift left by count (masked to 6 bits, as the instruction does)."""
    shifted: Words = value << _u(count & 63)
    return shifted


def _shr(value: Words, count: NDArray[np.int64]) -> Words:
    shifted: Words = value >> _u(count & 63)
    return shifted


def _shl32(value: Words, count: NDArray[np.int64]) -> Words:
    """A 32-bit shift left (`shll`): count masked to 5 bits, the upper half cleared."""
    shifted: Words = ((value & _LOW32) << _u(count & 31)) & _LOW32
    return shifted


def _shr32(value: Words, count: NDArray[np.int64]) -> Words:
    shifted: Words = (value & _LOW32) >> _u(count & 31)
    return shifted


def _negated(top: Words, r9: Words, r10: Words, r8: Words) -> tuple[Words, Words, Words]:
    """(top:0:0) - (r9:r10:r8) in 192 bits, the stub's `sub`/`sbb` chain: (r9, r10, r8)."""
    zero = np.zeros_like(r8)
    borrow = _u(r8 != 0)
    new_r10 = zero - r10 - borrow
    borrow = _u((r10 != 0) | (borrow == 1))
    return top - r9 - borrow, new_r10, zero - r8


def _bit_length(value: Words) -> NDArray[np.int64]:
    """The number of significant bits of each value (`bsr` + 1), by binary search."""
    length = np.zeros(value.shape, dtype=np.int64)
    rest = value.copy()
    for step in (32, 16, 8, 4, 2, 1):
        above = rest >= (np.uint64(1) << np.uint64(step))
        length += np.where(above, step, 0)
        rest = np.where(above, rest >> np.uint64(step), rest)
    return length + _u(rest != 0).astype(np.int64)


def _window_product(low: Words, high: Words,
                    words: list[Words]) -> tuple[Words, Words, Words, Words]:
    """x's mantissa (high:low, 21 + 32 bits) times a window of 7 words of 2/pi, as the stub
    sums it: the products of 32-bit limbs by column, without low * words[6] (below the bits
    kept) and high * words[0] (above the octant's bits). Returns the sum's bits 0-63 (r8),
    64-127 (r10), 128-159 (r11) and 160-223 (r9, which wraps as the stub's register does)."""
    # column c holds the products of limbs whose places add up to c (in units of 2**32)
    columns: list[list[Words]] = [[] for _ in range(7)]
    for k, word in enumerate(reversed(words)):  # words[6] is the lowest limb
        if k > 0:
            columns[k].append(low * word)
        if k < 6:
            columns[k + 1].append(high * word)
    limbs, carry = [], np.zeros_like(low)
    for column in range(1, 6):
        total = carry + sum((p & _LOW32 for p in columns[column]), np.zeros_like(low))
        total = total + sum((p >> np.uint64(32) for p in columns[column - 1]), np.zeros_like(low))
        limbs.append(total & _LOW32)
        carry = total >> np.uint64(32)
    top = carry + sum(columns[6], np.zeros_like(low))
    top = top + sum((p >> np.uint64(32) for p in columns[5]), np.zeros_like(low))
    return ((limbs[1] << np.uint64(32)) | limbs[0], (limbs[3] << np.uint64(32)) | limbs[2],
            limbs[4], top)


def _reduce(x: Doubles) -> tuple[Doubles, Doubles, NDArray[np.int64]]:
    """The stub's reduction of a finite |x| >= 90112: (high, low, octant) with
    x = octant * pi/4 + high + low modulo 2 pi, the octant signed as x, |high| <= pi/8."""
    bits = x.view(np.uint64)
    top16 = (bits >> np.uint64(48)).astype(np.int64)
    word = ((((top16 & 0x7FF0) - 16224) >> 7) & 0xFFFC) // 4  # first table word used
    t = TWO_OVER_PI_WORDS

    def table(k: int) -> Words:
        words: Words = t[word + k]
        return words

    mant_low = bits & _LOW32
    mant_high = (bits >> np.uint64(32) & np.uint64(0xFFFFF)) | np.uint64(0x100000)
    first_word = table(0)
    r8, r10, r11, r9 = _window_product(mant_low, mant_high, [table(k) for k in range(7)])
    sign = top16 & 0x8000
    exponent = ((top16 >> 4) & 2047) - 1023
    ecx = word * 32 + 19 - exponent  # in -3..28
    edx = ecx + 32

    # the octant's bits and the fraction's top word: ecx >= 1 in r9's low word, else r9:r11
    above = ecx >= 1
    count_a = 29 - ecx
    shifted_a = _shl32(r9, count_a)
    masked_a = shifted_a & np.uint64(0x1FFFFFFF)
    negate_a = (masked_a & np.uint64(0x10000000)) != 0
    r9_a = (_shr32(masked_a, count_a) << np.uint64(32)) | r11
    top_a = _shr32(np.full(x.shape, 0x20000000, dtype=np.uint64), count_a) << np.uint64(32)
    count_b = -ecx
    shifted_b = _shl((r9 << np.uint64(32)) | r11, count_b)
    negate_b = (shifted_b & np.uint64(0x80000000)) != 0
    r9_b = _shr32(shifted_b, count_b)
    top_b = _shr(np.full(x.shape, 0x100000000, dtype=np.uint64), count_b)
    edi = np.where(above, shifted_a, (shifted_b >> np.uint64(3)) & _LOW32)
    negate = np.where(above, negate_a, negate_b)
    r9 = np.where(above, r9_a, r9_b)
    # past half an octant: the fraction becomes 1 - fraction and the octant the next one
    n9, n10, n8 = _negated(np.where(above, top_a, top_b), r9, r10, r8)
    r9, r10, r8 = np.where(negate, n9, r9), np.where(negate, n10, r10), np.where(negate, n8, r8)
    edi = np.where(negate, (edi + np.uint64(0x20000000)) & _LOW32, edi)
    flipped = np.where(negate, 0x8000, 0)

    # a zero top word: the fraction moves up by 64 bits (twice at most)
    for _ in range(2):
        empty = r9 == 0
        edx = np.where(empty, edx + 64, edx)
        r9, r10, r8 = (np.where(empty, r10, r9), np.where(empty, r8, r10),
                       np.where(empty, np.uint64(0), r8))
    nothing = r9 == 0  # x * 2/pi is an integer to 192 bits: remainder 0

    # normalize: the fraction's leading bit to bit 29 of r9, the rest in r10
    count = 29 - (_bit_length(r9) - 1)
    up, down = count > 0, count < 0
    up_r9 = _shl(r9, count) | _shr(r10, 64 - count)
    up_r10 = _shl(r10, count) | _shr(r8, 64 - count)
    down_r10 = _shr(r10, -count) | _shl(r9, 64 + count)
    down_r9 = _shr(r9, -count)
    r9 = np.where(up, up_r9, np.where(down, down_r9, r9))
    r10 = np.where(up, up_r10, np.where(down, down_r10, r10))
    edx = edx + np.where(up | down, count, 0)

    high = r9.astype(np.int64).astype(np.float64)
    low = (r10 >> np.uint64(1)).astype(np.int64).astype(np.float64)
    scale_bits = (((-(edx << 4) + 16368) | sign) ^ flipped) & 0xFFFF
    scale = (_u(scale_bits) << np.uint64(48)).view(np.float64)
    scale_low = (_u((scale_bits - 1008) & 0xFFFF) << np.uint64(48)).view(np.float64)
    high = high * scale
    low = low * scale_low
    total = high + low
    high = high * PI_4_HI
    low = low * PI_4_HI
    octant = (edi >> np.uint64(29)).astype(np.int64)
    octant = np.where(sign != 0, -octant, octant)
    low_part = PI_4_LO * total
    low_part = low_part + low
    reduced = high + low_part
    low_part = low_part + (high - reduced)
    reduced = np.where(nothing, 0.0, reduced)
    low_part = np.where(nothing, 0.0, low_part)
    octant = np.where(nothing, first_word.astype(np.int64), octant)
    return reduced, low_part, octant
