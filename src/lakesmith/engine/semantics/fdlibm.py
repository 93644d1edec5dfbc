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


_O_THRESHOLD = 7.09782712893383973096e+02  # 0x40862E42 FEFA39EF
_U_THRESHOLD = -7.45133219101941108420e+02  # 0xc0874910 D52D3051
_TWOM1000 = 9.33263618503218878990e-302  # 2**-1000
_INVLN2 = 1.44269504088896338700e+00  # 0x3ff71547 652b82fe
_P1 = 1.66666666666666019037e-01  # 0x3FC55555 5555553E
_P2 = -2.77777777770155933842e-03  # 0xBF66C16C 16BEBD93
_P3 = 6.61375632143793436117e-05  # 0x3F11566A AF25DE2C
_P4 = -1.65339022054652515390e-06  # 0xBEBBBD41 C5D26BF1
_P5 = 4.13813679705723846039e-08  # 0x3E663769 72BEA4D0


def _scaled_by(y: Doubles, k: NDArray[np.int64]) -> Doubles:
    """y * 2**k by adding k to the exponent field (fdlibm's `__HI(y) += k << 20`)."""
    bits: NDArray[np.int64] = y.view(np.int64) + (k << 52)
    return bits.view(np.float64)


def exp(values: Doubles) -> Doubles:
    """`StrictMath.exp` of each value (fdlibm 5.3 `__ieee754_exp`)."""
    with np.errstate(all="ignore"):
        x = np.asarray(values, dtype=np.float64)
        high, _ = _words(x)
        negative = (high >> 31) & 1 == 1
        hx = high & 0x7FFFFFFF
        # argument reduction: |x| in (0.5 ln2, 1.5 ln2) by one ln2, beyond by k ln2
        sign = np.where(negative, -1.0, 1.0)
        near = hx < 0x3FF0A2B2
        k_far = (_INVLN2 * x + np.where(negative, -0.5, 0.5)).astype(np.int64)
        t = k_far.astype(np.float64)
        hi = np.where(near, x - sign * _LN2_HI, x - t * _LN2_HI)
        lo = np.where(near, sign * _LN2_LO, t * _LN2_LO)
        k = np.where(near, np.where(negative, -1, 1), k_far)
        reduced = hx > 0x3FD62E42
        k = np.where(reduced, k, 0)
        hi = np.where(reduced, hi, 0.0)
        lo = np.where(reduced, lo, 0.0)
        r = np.where(reduced, hi - lo, x)
        t = r * r
        c = r - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
        unscaled = 1.0 - ((r * c) / (c - 2.0) - r)
        y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
        scaled = np.where(k >= -1021, _scaled_by(y, k),
                          _scaled_by(y, k + 1000) * _TWOM1000)
        result = np.where(k == 0, unscaled, scaled)
        result = np.where(hx < 0x3E300000, 1.0 + x, result)  # |x| < 2**-28
        result = np.where(x > _O_THRESHOLD, np.inf, result)
        result = np.where(x < _U_THRESHOLD, 0.0, result)
        return np.where(np.isnan(x), x, np.where(np.isinf(x), np.where(x > 0, x, 0.0), result))


def _i32(unsigned: int) -> int:
    """A 32-bit word written in hex as the signed int fdlibm compares it as."""
    return unsigned - (1 << 32) if unsigned >= 1 << 31 else unsigned


def _low_cleared(x: Doubles) -> Doubles:
    """x with its low 32 bits zero (fdlibm's `__LO(x) = 0`)."""
    bits: NDArray[np.int64] = x.view(np.int64) & ~np.int64(0xFFFFFFFF)
    return bits.view(np.float64)


def _high_word(high: NDArray[np.int64]) -> Doubles:
    """A double whose high word is `high` and low word 0."""
    return _with_high(high, np.zeros_like(high))


_H = float.fromhex


def pow(xs: Doubles, ys: Doubles) -> Doubles:  # noqa: A001 - fdlibm's name
    """`StrictMath.pow(x, y)` of each pair (fdlibm 5.3 `__ieee754_pow`, as JDK's FdLibm.Pow)."""
    with np.errstate(all="ignore"):
        x, y = np.broadcast_arrays(np.asarray(xs, dtype=np.float64),
                                   np.asarray(ys, dtype=np.float64))
        x, y = x.copy(), y.copy()
        y_abs, x_abs = np.abs(y), np.abs(x)
        hx, _ = _words(x)
        ix = hx & 0x7FFFFFFF
        # y_is_int for x < 0: 0 not an integer, 1 odd, 2 even
        whole = (y_abs >= 1.0) & (y_abs < 2.0**53)
        as_long = np.where(whole, y_abs, 0.0).astype(np.int64)
        whole &= as_long.astype(np.float64) == y_abs
        y_is_int = np.where(hx < 0, np.where(y_abs >= 2.0**53, 2,
                                            np.where(whole, 2 - (as_long & 1), 0)), 0)
        n0 = (hx >> 31) + 1  # 0 for a negative x
        s = np.where((n0 | (y_is_int - 1)) == 0, -1.0, 1.0)  # (-x) ** odd

        # |y| beyond ~2**31: log2(x) from x - 1 (x is near one, else it over/underflows)
        t = x_abs - 1.0
        w = (t * t) * (0.5 - t * (0.3333333333333333333333 - t * 0.25))
        u = _H("0x1.715476p0") * t
        v = t * _H("0x1.4ae0bf85ddf44p-26") - w * _H("0x1.71547652b82fep0")
        t1_huge = _low_cleared(u + v)
        t2_huge = v - (t1_huge - u)

        # otherwise: log2(x) = n + log2(x') with x' in [sqrt(2)/2, sqrt(2)), in extra precision
        subnormal = ix < 0x00100000
        xa = np.where(subnormal, x_abs * 2.0**53, x_abs)
        n = np.where(subnormal, -53, 0)
        ixa, lxa = _words(xa)
        ixa = np.where(subnormal, ixa, ix)
        n = n + (ixa >> 20) - 0x3FF
        j = ixa & 0x000FFFFF
        ixn = j | 0x3FF00000
        k = np.where(j <= 0x3988E, 0, np.where(j < 0xBB67A, 1, 0))
        wrap = j >= 0xBB67A
        n = np.where(wrap, n + 1, n)
        ixn = np.where(wrap, ixn - 0x00100000, ixn)
        xa = _with_high(ixn, lxa)
        bp = np.where(k == 1, 1.5, 1.0)
        dp_h = np.where(k == 1, _H("0x1.2b8034p-1"), 0.0)
        dp_l = np.where(k == 1, _H("0x1.cfdeb43cfd006p-27"), 0.0)
        u = xa - bp
        v = 1.0 / (xa + bp)
        ss = u * v
        s_h = _low_cleared(ss)
        t_h = _high_word(((ixn >> 1) | 0x20000000) + 0x00080000 + (k << 18))
        t_l = xa - (t_h - bp)
        s_l = v * ((u - s_h * t_h) - s_h * t_l)
        s2 = ss * ss
        r = s2 * s2 * (_H("0x1.3333333333303p-1") + s2 * (_H("0x1.b6db6db6fabffp-2") + s2 * (
            _H("0x1.55555518f264dp-2") + s2 * (_H("0x1.17460a91d4101p-2") + s2 * (
                _H("0x1.d864a93c9db65p-3") + s2 * _H("0x1.a7e284a454eefp-3"))))))
        r = r + s_l * (s_h + ss)
        s2 = s_h * s_h
        t_h = _low_cleared(3.0 + s2 + r)
        t_l = r - ((t_h - 3.0) - s2)
        u = s_h * t_h
        v = s_l * t_h + t_l * ss
        p_h = _low_cleared(u + v)
        p_l = v - (p_h - u)
        cp, cp_h, cp_l = (_H("0x1.ec709dc3a03fdp-1"), _H("0x1.ec709ep-1"),
                          _H("-0x1.e2fe0145b01f5p-28"))
        z_h = cp_h * p_h
        z_l = cp_l * p_h + p_l * cp + dp_l
        tn = n.astype(np.float64)
        t1_near = _low_cleared(((z_h + z_l) + dp_h) + tn)
        t2_near = z_l - (((t1_near - tn) - dp_h) - z_h)

        huge_y = y_abs > _H("0x1.00000ffffffffp31")
        t1 = np.where(huge_y, t1_huge, t1_near)
        t2 = np.where(huge_y, t2_huge, t2_near)

        # (y1 + y2) * (t1 + t2)
        y1 = _low_cleared(y)
        p_l = (y - y1) * t1 + y * t2
        p_h = y1 * t1
        z = p_l + p_h
        jz, iz = _words(z)
        over = (jz >= 0x40900000) & ((((jz - 0x40900000) | iz) != 0) | (
            p_l + 8.0085662595372944372e-0017 > z - p_h))
        under = (jz < 0x40900000) & ((jz & 0x7FFFFFFF) >= 0x4090CC00) & (
            (((jz - _i32(0xC090CC00)) | iz) != 0) | (p_l <= z - p_h))

        # 2 ** (p_h + p_l)
        i = jz & 0x7FFFFFFF
        kz = (i >> 20) - 0x3FF
        large = i > 0x3FE00000
        shift = np.clip(kz + 1, 0, 31)
        nn = jz + (0x00100000 >> shift)
        kn = np.clip(((nn & 0x7FFFFFFF) >> 20) - 0x3FF, 0, 20)
        tz = _high_word(nn & ~(0x000FFFFF >> kn))
        nn = ((nn & 0x000FFFFF) | 0x00100000) >> (20 - kn)
        nn = np.where(jz < 0, -nn, nn)
        n = np.where(large, nn, 0)
        p_h = np.where(large, p_h - tz, p_h)
        t = _low_cleared(p_l + p_h)
        lg2, lg2_h, lg2_l = (_H("0x1.62e42fefa39efp-1"), _H("0x1.62e43p-1"),
                             _H("-0x1.05c610ca86c39p-29"))
        u = t * lg2_h
        v = (p_l - (t - p_h)) * lg2 + t * lg2_l
        z = u + v
        w = v - (z - u)
        t = z * z
        t1 = z - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
        r = (z * t1) / (t1 - 2.0) - (w + z * w)
        z = 1.0 - (r - z)
        jr, _ = _words(z)
        scaled = np.where(((jr + (n << 20)) >> 20) <= 0, np.ldexp(z, n.astype(np.int32)),
                          _scaled_by(z, n))
        result = s * scaled

        result = np.where(over, s * np.inf, np.where(under, s * 0.0, result))
        result = np.where(huge_y & (x_abs < _H("0x1.fffff00000000p-1")),
                          np.where(y < 0.0, s * np.inf, s * 0.0), result)
        result = np.where(huge_y & (x_abs > _H("0x1.00000ffffffffp0")),
                          np.where(y > 0.0, s * np.inf, s * 0.0), result)
        result = np.where((n0 | y_is_int) == 0, np.nan, result)  # (x < 0) ** non-integer
        # x is ±0, ±Infinity or ±1
        z_special = np.where(y < 0.0, 1.0 / x_abs, x_abs)
        z_special = np.where(hx < 0, np.where(((ix - 0x3FF00000) | y_is_int) == 0, np.nan,
                                              np.where(y_is_int == 1, -1.0 * z_special,
                                                       z_special)), z_special)
        result = np.where((x_abs == 0.0) | (x_abs == np.inf) | (x_abs == 1.0), z_special,
                          result)
        # special values of y
        y_infinite = np.where(x_abs == 1.0, y - y, np.where(
            x_abs > 1.0, np.where(y >= 0, y, 0.0), np.where(y < 0, -y, 0.0)))
        result = np.where(y_abs == np.inf, y_infinite, result)
        result = np.where(y_abs == 1.0, np.where(y == 1.0, x, 1.0 / x), result)
        result = np.where((y == 0.5) & (x >= -np.finfo(np.float64).max),
                          np.sqrt(x + 0.0), result)
        result = np.where(y == 2.0, x * x, result)
        result = np.where(np.isnan(x) | np.isnan(y), x + y, result)
        return np.where(y == 0.0, 1.0, result)
