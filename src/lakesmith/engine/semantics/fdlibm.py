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


_LP = (_LG1, _LG2, _LG3, _LG4, _LG5, _LG6, _LG7)  # log1p's Lp1..Lp7 are log's Lg1..Lg7


def log1p(values: Doubles) -> Doubles:
    """`StrictMath.log1p` of each value (fdlibm 5.3 `s_log1p.c`)."""
    with np.errstate(all="ignore"):
        x = np.asarray(values, dtype=np.float64)
        hx, _ = _words(x)
        ax = hx & 0x7FFFFFFF
        below = hx < 0x3FDA827A  # x < 0.41422
        k0 = below & ((hx > 0) | (hx <= _i32(0xBFD2BEC3)))  # -0.2929 < x < 0.41422: k = 0
        # k != 0: 1 + x = 2**k * u, with a correction term c
        u1 = 1.0 + x
        big = hx >= 0x43400000
        u = np.where(big, x, u1)
        hu, lu = _words(u)
        k = (hu >> 20) - 1023
        c = np.where(big, 0.0, np.where(k > 0, 1.0 - (u1 - x), x - (u1 - 1.0)) / u1)
        hu = hu & 0x000FFFFF
        whole = hu < 0x6A09E
        u = np.where(whole, _with_high(hu | 0x3FF00000, lu), _with_high(hu | 0x3FE00000, lu))
        k = np.where(whole, k, k + 1)
        hu = np.where(whole, hu, (0x00100000 - hu) >> 2)
        f = np.where(k0, x, u - 1.0)
        k = np.where(k0, 0, k)
        c = np.where(k0, 0.0, c)
        hu = np.where(k0, 1, hu)
        dk = k.astype(np.float64)
        hfsq = 0.5 * f * f
        # |f| < 2**-20
        r_small = hfsq * (1.0 - 0.66666666666666666 * f)
        at_one = np.where(k == 0, 0.0, dk * _LN2_HI + (c + dk * _LN2_LO))
        small = np.where(k == 0, f - r_small, dk * _LN2_HI - ((r_small - (dk * _LN2_LO + c)) - f))
        small = np.where(f == 0.0, at_one, small)
        s = f / (2.0 + f)
        z = s * s
        r = z * (_LP[0] + z * (_LP[1] + z * (_LP[2] + z * (_LP[3] + z * (
            _LP[4] + z * (_LP[5] + z * _LP[6]))))))
        general = np.where(k == 0, f - (hfsq - s * (hfsq + r)),
                           dk * _LN2_HI - ((hfsq - (s * (hfsq + r) + (dk * _LN2_LO + c))) - f))
        result = np.where(hu == 0, small, general)
        result = np.where(hx >= 0x7FF00000, x + x, result)
        tiny = below & (ax < 0x3E200000)  # |x| < 2**-29
        result = np.where(tiny, np.where(ax < 0x3C900000, x, x - x * x * 0.5), result)
        at_most_minus_one = below & (ax >= 0x3FF00000)
        return np.where(at_most_minus_one, np.where(x == -1.0, -np.inf, np.nan), result)


_Q = (_H("-0x1.11111111110f4p-5"), _H("0x1.a01a019fe5585p-10"), _H("-0x1.4ce199eaadbb7p-14"),
      _H("0x1.0cfca86e65239p-18"), _H("-0x1.afdb76e09c32dp-23"))


def expm1(values: Doubles) -> Doubles:
    """`StrictMath.expm1` of each value (fdlibm 5.3 `s_expm1.c`)."""
    with np.errstate(all="ignore"):
        x0 = np.asarray(values, dtype=np.float64)
        high, _ = _words(x0)
        negative = high < 0
        hx = high & 0x7FFFFFFF
        near = hx < 0x3FF0A2B2
        sign = np.where(negative, -1.0, 1.0)
        k_far = (_INVLN2 * x0 + np.where(negative, -0.5, 0.5)).astype(np.int64)
        t = k_far.astype(np.float64)
        hi = np.where(near, x0 - sign * _LN2_HI, x0 - t * _LN2_HI)
        lo = np.where(near, sign * _LN2_LO, t * _LN2_LO)
        k = np.where(near, np.where(negative, -1, 1), k_far)
        reduced = hx > 0x3FD62E42
        x = np.where(reduced, hi - lo, x0)
        c = np.where(reduced, (hi - x) - lo, 0.0)
        k = np.where(reduced, k, 0)
        hfx = 0.5 * x
        hxs = x * hfx
        r1 = 1.0 + hxs * (_Q[0] + hxs * (_Q[1] + hxs * (_Q[2] + hxs * (_Q[3] + hxs * _Q[4]))))
        t = 3.0 - r1 * hfx
        e = hxs * ((r1 - t) / (6.0 - x * t))
        unreduced = x - (x * e - hxs)
        e = x * (e - c) - c
        e = e - hxs
        minus_one = 0.5 * (x - e) - 0.5
        plus_one = np.where(x < -0.25, -2.0 * (e - (x + 0.5)), 1.0 + 2.0 * (x - e))
        far = _scaled_by(1.0 - (e - x), k) - 1.0
        k_shift = np.clip(k, 0, 19)
        t_low = _high_word(0x3FF00000 - (0x200000 >> k_shift))  # 1 - 2**-k
        mid = _scaled_by(t_low - (e - x), k)
        t_high = _high_word((0x3FF - np.clip(k, 20, 1023)) << 20)  # 2**-k
        high_k = _scaled_by((x - (e + t_high)) + 1.0, k)
        result = np.where(k < 20, mid, high_k)
        result = np.where((k <= -2) | (k > 56), far, result)
        result = np.where(k == 1, plus_one, result)
        result = np.where(k == -1, minus_one, result)
        result = np.where(k == 0, unreduced, result)
        result = np.where(~reduced & (hx < 0x3C900000), x0, result)  # |x| < 2**-54
        huge = hx >= 0x4043687A  # |x| >= 56 ln2
        result = np.where(huge & negative, -1.0, result)
        result = np.where(x0 > _O_THRESHOLD, np.inf, result)
        result = np.where(np.isinf(x0), np.where(negative, -1.0, x0), result)
        return np.where(np.isnan(x0), x0 + x0, result)


_OVERFLOW_HIGH, _OVERFLOW_LOW = 0x408633CE, 0x8FB9F87D  # ~710.4758600739439


def _below_overflow(ix: NDArray[np.int64], lx: NDArray[np.int64]) -> NDArray[np.bool_]:
    result: NDArray[np.bool_] = (ix < _OVERFLOW_HIGH) | (
        (ix == _OVERFLOW_HIGH) & (lx <= _OVERFLOW_LOW))
    return result


def sinh(values: Doubles) -> Doubles:
    """`StrictMath.sinh` of each value (fdlibm 5.3 `e_sinh.c`)."""
    with np.errstate(all="ignore"):
        x = np.asarray(values, dtype=np.float64)
        jx, lx = _words(x)
        ix = jx & 0x7FFFFFFF
        h = np.where(jx < 0, -0.5, 0.5)
        t = expm1(np.abs(x))
        small = np.where(ix < 0x3FF00000, h * (2.0 * t - t * t / (t + 1.0)),
                         h * (t + t / (t + 1.0)))
        small = np.where(ix < 0x3E300000, x, small)
        w = exp(0.5 * np.abs(x))
        result = np.where(_below_overflow(ix, lx), (h * w) * w, x * 1.0e307)
        result = np.where(ix < 0x40862E42, h * exp(np.abs(x)), result)
        result = np.where(ix < 0x40360000, small, result)
        return np.where(ix >= 0x7FF00000, x + x, result)


def cosh(values: Doubles) -> Doubles:
    """`StrictMath.cosh` of each value (fdlibm 5.3 `e_cosh.c`)."""
    with np.errstate(all="ignore"):
        x = np.asarray(values, dtype=np.float64)
        hx, lx = _words(x)
        ix = hx & 0x7FFFFFFF
        t = expm1(np.abs(x))
        w = 1.0 + t
        tiny = np.where(ix < 0x3C800000, w, 1.0 + (t * t) / (w + w))
        e = exp(np.abs(x))
        half = exp(0.5 * np.abs(x))
        result = np.where(_below_overflow(ix, lx), (0.5 * half) * half, np.inf)
        result = np.where(ix < 0x40862E42, 0.5 * e, result)
        result = np.where(ix < 0x40360000, 0.5 * e + 0.5 / e, result)
        result = np.where(ix < 0x3FD62E43, tiny, result)
        return np.where(ix >= 0x7FF00000, x * x, result)


def tanh(values: Doubles) -> Doubles:
    """`StrictMath.tanh` of each value (fdlibm 5.3 `s_tanh.c`)."""
    with np.errstate(all="ignore"):
        x = np.asarray(values, dtype=np.float64)
        jx, _ = _words(x)
        ix = jx & 0x7FFFFFFF
        t_big = expm1(2.0 * np.abs(x))
        t_small = expm1(-2.0 * np.abs(x))
        z = np.where(ix >= 0x3FF00000, 1.0 - 2.0 / (t_big + 2.0), -t_small / (t_small + 2.0))
        z = np.where(ix < 0x40360000, z, 1.0 - 1.0e-300)
        result = np.where(jx >= 0, z, -z)
        result = np.where(ix < 0x3C800000, x * (1.0 + x), result)
        return np.where(ix >= 0x7FF00000, np.where(jx >= 0, 1.0 / x + 1.0, 1.0 / x - 1.0),
                        result)


_PIO2_HI, _PIO2_LO = _H("0x1.921fb54442d18p0"), _H("0x1.1a62633145c07p-54")
_PIO4_HI = _H("0x1.921fb54442d18p-1")
_PS = tuple(_H(h) for h in ("0x1.5555555555555p-3", "-0x1.4d61203eb6f7dp-2",
                            "0x1.9c1550e884455p-3", "-0x1.48228b5688f3bp-5",
                            "0x1.9efe07501b288p-11", "0x1.23de10dfdf709p-15"))
_QS = tuple(_H(h) for h in ("-0x1.33a271c8a2d4bp1", "0x1.02ae59c598ac8p1",
                            "-0x1.6066c1b8d0159p-1", "0x1.3b8c5b12e9282p-4"))


def _asin_ratio(t: Doubles) -> tuple[Doubles, Doubles]:
    """(p, q) of asin/acos's rational approximation R(t) = p / q."""
    p = t * (_PS[0] + t * (_PS[1] + t * (_PS[2] + t * (_PS[3] + t * (_PS[4] + t * _PS[5])))))
    q = 1.0 + t * (_QS[0] + t * (_QS[1] + t * (_QS[2] + t * _QS[3])))
    return p, q


def asin(values: Doubles) -> Doubles:
    """`StrictMath.asin` of each value (fdlibm 5.3 `e_asin.c`)."""
    with np.errstate(all="ignore"):
        x = np.asarray(values, dtype=np.float64)
        hx, lx = _words(x)
        ix = hx & 0x7FFFFFFF
        t = x * x
        p, q = _asin_ratio(t)
        small = x + x * (p / q)
        small = np.where(ix < 0x3E400000, x, small)
        w = 1.0 - np.abs(x)
        t = w * 0.5
        p, q = _asin_ratio(t)
        s = np.sqrt(t)
        near_one = _PIO2_HI - (2.0 * (s + s * (p / q)) - _PIO2_LO)
        w = _low_cleared(s)
        c = (t - w * w) / (s + w)
        r = p / q
        p2 = 2.0 * s * r - (_PIO2_LO - 2.0 * c)
        q2 = _PIO4_HI - 2.0 * w
        middle = _PIO4_HI - (p2 - q2)
        large = np.where(ix >= 0x3FEF3333, near_one, middle)
        large = np.where(hx > 0, large, -large)
        result = np.where(ix < 0x3FE00000, small, large)
        at_least_one = np.where(((ix - 0x3FF00000) | lx) == 0, x * _PIO2_HI + x * _PIO2_LO,
                                np.nan)
        return np.where(ix >= 0x3FF00000, np.where(np.isnan(x), x, at_least_one), result)


def acos(values: Doubles) -> Doubles:
    """`StrictMath.acos` of each value (fdlibm 5.3 `e_acos.c`)."""
    with np.errstate(all="ignore"):
        x = np.asarray(values, dtype=np.float64)
        hx, lx = _words(x)
        ix = hx & 0x7FFFFFFF
        z = x * x
        p, q = _asin_ratio(z)
        small = _PIO2_HI - (x - (_PIO2_LO - x * (p / q)))
        small = np.where(ix <= 0x3C600000, _PIO2_HI + _PIO2_LO, small)
        z = (1.0 + x) * 0.5
        p, q = _asin_ratio(z)
        s = np.sqrt(z)
        negative = np.pi - 2.0 * (s + ((p / q) * s - _PIO2_LO))
        z = (1.0 - x) * 0.5
        s = np.sqrt(z)
        df = _low_cleared(s)
        c = (z - df * df) / (s + df)
        p, q = _asin_ratio(z)
        positive = 2.0 * (df + ((p / q) * s + c))
        result = np.where(ix < 0x3FE00000, small, np.where(hx < 0, negative, positive))
        one = np.where(hx > 0, 0.0, np.pi + 2.0 * _PIO2_LO)
        at_least_one = np.where(((ix - 0x3FF00000) | lx) == 0, one, np.nan)
        return np.where(ix >= 0x3FF00000, np.where(np.isnan(x), x, at_least_one), result)


_ATAN_HI = tuple(_H(h) for h in ("0x1.dac670561bb4fp-2", "0x1.921fb54442d18p-1",
                                 "0x1.f730bd281f69bp-1", "0x1.921fb54442d18p0"))
_ATAN_LO = tuple(_H(h) for h in ("0x1.a2b7f222f65e2p-56", "0x1.1a62633145c07p-55",
                                 "0x1.007887af0cbbdp-56", "0x1.1a62633145c07p-54"))
_AT = tuple(_H(h) for h in (
    "0x1.555555555550dp-2", "-0x1.999999998ebc4p-3", "0x1.24924920083ffp-3",
    "-0x1.c71c6fe231671p-4", "0x1.745cdc54c206ep-4", "-0x1.3b0f2af749a6dp-4",
    "0x1.10d66a0d03d51p-4", "-0x1.dde2d52defd9ap-5", "0x1.97b4b24760debp-5",
    "-0x1.2b4442c6a6c2fp-5", "0x1.0ad3ae322da11p-6"))


def atan(values: Doubles) -> Doubles:
    """`StrictMath.atan` of each value (fdlibm 5.3 `s_atan.c`)."""
    with np.errstate(all="ignore"):
        x0 = np.asarray(values, dtype=np.float64)
        hx, _ = _words(x0)
        ix = hx & 0x7FFFFFFF
        a = np.abs(x0)
        ident = np.where(ix < 0x3FF30000, np.where(ix < 0x3FE60000, 0, 1),
                         np.where(ix < 0x40038000, 2, 3))
        reduced = np.select([ident == 0, ident == 1, ident == 2],
                            [(2.0 * a - 1.0) / (2.0 + a), (a - 1.0) / (a + 1.0),
                             (a - 1.5) / (1.0 + 1.5 * a)], -1.0 / a)
        unreduced = ix < 0x3FDC0000  # |x| < 0.4375
        x = np.where(unreduced, x0, reduced)
        z = x * x
        w = z * z
        s1 = z * (_AT[0] + w * (_AT[2] + w * (_AT[4] + w * (_AT[6] + w * (
            _AT[8] + w * _AT[10])))))
        s2 = w * (_AT[1] + w * (_AT[3] + w * (_AT[5] + w * (_AT[7] + w * _AT[9]))))
        hi = np.choose(ident, _ATAN_HI)
        lo = np.choose(ident, _ATAN_LO)
        z = hi - ((x * (s1 + s2) - lo) - x)
        result = np.where(unreduced, x - x * (s1 + s2), np.where(hx < 0, -z, z))
        result = np.where(ix < 0x3E200000, x0, result)
        beyond = np.where(hx > 0, _ATAN_HI[3] + _ATAN_LO[3], -_ATAN_HI[3] - _ATAN_LO[3])
        result = np.where(ix >= 0x44100000, beyond, result)
        return np.where(np.isnan(x0), x0 + x0, result)


_PI_LO = _H("0x1.1a62633145c07p-53")


def atan2(ys: Doubles, xs: Doubles) -> Doubles:
    """`StrictMath.atan2(y, x)` of each pair (fdlibm 5.3 `e_atan2.c`)."""
    with np.errstate(all="ignore"):
        y, x = np.broadcast_arrays(np.asarray(ys, dtype=np.float64),
                                   np.asarray(xs, dtype=np.float64))
        hx, lx = _words(x)
        hy, ly = _words(y)
        ix, iy = hx & 0x7FFFFFFF, hy & 0x7FFFFFFF
        m = ((hy >> 31) & 1) | ((hx >> 30) & 2)  # 2 * sign(x) + sign(y)
        k = (iy - ix) >> 20
        z = np.where(k > 60, _PIO2_HI + 0.5 * _PI_LO,
                     np.where((hx < 0) & (k < -60), 0.0, atan(np.abs(y / x))))
        result = np.choose(m, [z, -z, np.pi - (z - _PI_LO), (z - _PI_LO) - np.pi])
        half_pi = np.where(hy < 0, -_PIO2_HI - 1e-300, _PIO2_HI + 1e-300)
        result = np.where(iy == 0x7FF00000, half_pi, result)  # y is ±Infinity
        both_infinite = np.choose(m, [_PIO4_HI + 1e-300, -_PIO4_HI - 1e-300,
                                      3.0 * _PIO4_HI + 1e-300, -3.0 * _PIO4_HI - 1e-300])
        x_infinite = np.choose(m, [0.0, -0.0, np.pi + 1e-300, -np.pi - 1e-300])
        result = np.where(ix == 0x7FF00000, np.where(iy == 0x7FF00000, both_infinite,
                                                      x_infinite), result)
        result = np.where((ix | lx) == 0, half_pi, result)  # x is ±0
        y_zero = np.choose(m, [y, y, np.full_like(y, np.pi + 1e-300),
                               np.full_like(y, -np.pi - 1e-300)])
        result = np.where((iy | ly) == 0, y_zero, result)
        result = np.where(((hx - 0x3FF00000) | lx) == 0, atan(y), result)  # x is 1.0
        return np.where(np.isnan(x) | np.isnan(y), x + y, result)


_CB = (_H("0x1.15f15f15f15f1p-1"), _H("-0x1.691de2532c834p-1"), _H("0x1.6a0ea0ea0ea0fp0"),
       _H("0x1.9b6db6db6db6ep0"), _H("0x1.6db6db6db6db7p-2"))  # C, D, E, F, G
_B1, _B2 = 715094163, 696219795


def cbrt(values: Doubles) -> Doubles:
    """`StrictMath.cbrt` of each value (fdlibm 5.3 `s_cbrt.c`)."""
    with np.errstate(all="ignore"):
        x0 = np.asarray(values, dtype=np.float64)
        sign = np.where(x0 < 0.0, -1.0, 1.0)
        x = np.abs(x0)
        # a rough cube root to 5 bits, from the exponent
        scaled = 2.0**54 * x
        hs, ls = _words(scaled)
        hx, _ = _words(x)
        t = np.where(x < 2.0**-1022, _with_high(hs // 3 + _B2, ls), _high_word(hx // 3 + _B1))
        c, d, e, f, g = _CB
        r = t * t / x
        s = c + r * t
        t = t * (g + f / (s + e + d / s))
        ht, _ = _words(_low_cleared(t))
        t = _high_word(ht + 1)  # chopped to 20 bits, made larger than cbrt(x)
        s = t * t
        r = x / s
        w = t + t
        r = (r - t) / (w + r)
        t = t + t * r
        return np.where((x0 == 0.0) | ~np.isfinite(x0), x0, sign * t)


def hypot(xs: Doubles, ys: Doubles) -> Doubles:
    """`StrictMath.hypot(x, y)` of each pair (fdlibm 5.3 `e_hypot.c`, as JDK's FdLibm.Hypot)."""
    with np.errstate(all="ignore"):
        x, y = np.broadcast_arrays(np.asarray(xs, dtype=np.float64),
                                   np.asarray(ys, dtype=np.float64))
        a0, b0 = np.abs(x), np.abs(y)
        a, b = np.maximum(a0, b0), np.minimum(a0, b0)
        ha, _ = _words(a)
        hb, _ = _words(b)
        far_apart = (ha - hb) > 0x3C00000
        k = np.zeros(a.shape, dtype=np.int64)
        big = a > _H("0x1.00000ffffffffp500")
        ha, hb = np.where(big, ha - 0x25800000, ha), np.where(big, hb - 0x25800000, hb)
        a, b = np.where(big, a * 2.0**-600, a), np.where(big, b * 2.0**-600, b)
        k = np.where(big, k + 600, k)
        tiny_b = b < 2.0**-500
        subnormal_b = tiny_b & (b < 2.0**-1022)
        scale_up = tiny_b & ~subnormal_b
        ha, hb = np.where(scale_up, ha + 0x25800000, ha), np.where(scale_up, hb + 0x25800000, hb)
        a = np.where(subnormal_b, a * 2.0**1022, np.where(scale_up, a * 2.0**600, a))
        b = np.where(subnormal_b, b * 2.0**1022, np.where(scale_up, b * 2.0**600, b))
        k = np.where(subnormal_b, k - 1022, np.where(scale_up, k - 600, k))
        w = a - b
        t1 = _high_word(ha)
        t2 = a - t1
        apart = np.sqrt(t1 * t1 - (b * (-b) - t2 * (a + t1)))
        a2 = a + a
        y1 = _high_word(hb)
        y2 = b - y1
        t1 = _high_word(ha + 0x00100000)
        t2 = a2 - t1
        close = np.sqrt(t1 * y1 - (w * (-w) - (t1 * y2 + t2 * b)))
        w = np.where(w > b, apart, close)
        result = np.where(k != 0, np.ldexp(1.0, k.astype(np.int32)) * w, w)
        result = np.where(np.minimum(a0, b0) == 0.0, np.maximum(a0, b0), result)
        result = np.where(far_apart, np.maximum(a0, b0) + np.minimum(a0, b0), result)
        infinite = (a0 == np.inf) | (b0 == np.inf)
        return np.where(~np.isfinite(a0) | ~np.isfinite(b0),
                        np.where(infinite, np.inf, a0 + b0), result)
