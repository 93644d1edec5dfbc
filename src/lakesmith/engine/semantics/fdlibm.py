"""fdlibm's natural and base-10 logarithms (`e_log.c`, `e_log10.c`), vectorized with numpy:
the values of Java's `StrictMath.log` / `StrictMath.log10`, which Apache Spark's `ln`, `log`,
`log2` and `log10` return.

The engine computes logarithms with the platform's libm, whose last bit differs from fdlibm's for
about 2 % of doubles (`ln(3.0D)`: 1.0986122886681098, Spark 1.0986122886681096). fdlibm's
algorithm is an exponent/mantissa split read from the bits plus a fixed sequence of IEEE double
operations; numpy performs each operation as one correctly rounded IEEE operation (no fused
multiply-add), so the port below gives fdlibm's bits exactly. It is a transcription: the
statements, constants and their order are fdlibm's (Sun Microsystems, 1993), with each `if` on a
value computed for every element and chosen with `np.where`."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

_TWO54 = 1.80143985094819840000e+16  # 0x43500000 00000000
_LN2_HI = 6.93147180369123816490e-01  # 0x3fe62e42 fee00000
_LN2_LO = 1.90821492927058770002e-10  # 0x3dea39ef 35793c76
_LG1 = 6.666666666666735130e-01  # 3FE55555 55555593
_LG2 = 3.999999999940941908e-01  # 3FD99999 9997FA04
_LG3 = 2.857142874366239149e-01  # 3FD24924 94229359
_LG4 = 2.222219843214978396e-01  # 3FCC71C5 1D8E78AF
_LG5 = 1.818357216161805012e-01  # 3FC74664 96CB03DE
_LG6 = 1.531383769920937332e-01  # 3FC39A09 D078C69F
_LG7 = 1.479819860511658591e-01  # 3FC2F112 DF3E5244
_IVLN10 = 4.34294481903251816668e-01  # 0x3FDBCB7B 1526E50E
_LOG10_2HI = 3.01029995663611771306e-01  # 0x3FD34413 509F6000
_LOG10_2LO = 3.69423907715893078616e-13  # 0x3D59FEF3 11F12B36

Doubles = NDArray[np.float64]


def _words(x: Doubles) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(the high 32 bits as a signed int, the low 32 bits) of each double: fdlibm's __HI, __LO."""
    bits = x.view(np.int64)
    return (bits >> 32).astype(np.int32).astype(np.int64), bits & 0xFFFFFFFF


def _with_high(high: NDArray[np.int64], low: NDArray[np.int64]) -> Doubles:
    """Doubles from their high and low words (fdlibm's `__HI(x) = ...`)."""
    bits: NDArray[np.int64] = ((high & 0xFFFFFFFF) << 32) | low
    return bits.view(np.float64)


def _scaled(x: Doubles) -> tuple[Doubles, NDArray[np.int64], NDArray[np.int64],
                                 NDArray[np.int64], NDArray[np.bool_]]:
    """The subnormal step both functions share: (x, k, hx, lx, x is ±0 or negative)."""
    hx, lx = _words(x)
    tiny = hx < 0x00100000  # x < 2**-1022, or negative
    not_positive = tiny & ((((hx & 0x7FFFFFFF) | lx) == 0) | (hx < 0))
    subnormal = tiny & ~not_positive
    x = np.where(subnormal, x * _TWO54, x)
    hx, lx = _words(x)
    k = np.where(subnormal, -54, 0).astype(np.int64)
    return x, k, hx, lx, not_positive


def _nonpositive(x: Doubles) -> Doubles:
    """fdlibm's log of ±0 (-Infinity) and of a negative number (NaN)."""
    return np.where(x == 0.0, -np.inf, np.nan)


def log(values: Doubles) -> Doubles:
    """`StrictMath.log` of each value (fdlibm 5.3 `__ieee754_log`)."""
    with np.errstate(all="ignore"):
        x0 = np.asarray(values, dtype=np.float64)
        x, k, hx, lx, not_positive = _scaled(x0)
        special = hx >= 0x7FF00000  # Infinity or NaN: x + x
        k = k + (hx >> 20) - 1023
        hx = hx & 0x000FFFFF
        i = (hx + 0x95F64) & 0x100000
        x = _with_high(hx | (i ^ 0x3FF00000), lx)  # normalize x or x/2
        k = k + (i >> 20)
        f = x - 1.0
        dk = k.astype(np.float64)
        # |f| < 2**-20
        near_one = (0x000FFFFF & (2 + hx)) < 3
        r_small = f * f * (0.5 - 0.33333333333333333 * f)
        small = np.where(f == 0.0, dk * _LN2_HI + dk * _LN2_LO,
                         dk * _LN2_HI - ((r_small - dk * _LN2_LO) - f))
        s = f / (2.0 + f)
        z = s * s
        w = z * z
        t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
        t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
        r = t2 + t1
        hfsq = 0.5 * f * f
        # i = hx - 0x6147a | 0x6b851 - hx > 0 (signed)
        band = (hx - 0x6147A >= 0) & (0x6B851 - hx >= 0)
        # fdlibm tests k == 0 as well: then dk * ln2 terms are 0 and the result is the same
        banded = dk * _LN2_HI - ((hfsq - (s * (hfsq + r) + dk * _LN2_LO)) - f)
        plain = dk * _LN2_HI - ((s * (f - r) - dk * _LN2_LO) - f)
        result = np.where(near_one, small, np.where(band, banded, plain))
        result = np.where(special, x0 + x0, result)
        return np.where(not_positive, _nonpositive(x0), result)


def log10(values: Doubles) -> Doubles:
    """`StrictMath.log10` of each value (fdlibm 5.3 `__ieee754_log10`)."""
    with np.errstate(all="ignore"):
        x0 = np.asarray(values, dtype=np.float64)
        x, k, hx, lx, not_positive = _scaled(x0)
        special = hx >= 0x7FF00000
        k = k + (hx >> 20) - 1023
        i = np.where(k < 0, 1, 0)  # fdlibm: ((unsigned)k & 0x80000000) >> 31
        hx = (hx & 0x000FFFFF) | ((0x3FF - i) << 20)
        y = (k + i).astype(np.float64)
        z = y * _LOG10_2LO + _IVLN10 * log(_with_high(hx, lx))
        result = z + y * _LOG10_2HI
        result = np.where(special, x0 + x0, result)
        return np.where(not_positive, _nonpositive(x0), result)
