"""The constants of HotSpot's x86-64 `sin` / `cos` stubs, computed from what they are.

HotSpot's stubs (Intel LIBM, `StubRoutines::dsin` / `dcos`) read a table of sin and cos at the
64 points B = M * pi/32, Taylor coefficients, pi/32 split in three and the bits of 2/pi. Each is
a mathematical value rounded a stated way, so lakesmith computes them here (Python's `decimal`
at 120 digits, 420 for 2/pi) instead of carrying opaque hex: the port (`hotspot_trig.py`) gets
Spark's bits from them (`tests/engine/test_hotspot_trig.py`). How each is rounded:

- per M: sigma, the power of two nearest cos(B) on a log scale (a tie, cos(pi/4), goes down;
  0 where cos(B) = 0), signed as cos(B); C_hl = cos(B) - sigma and S_hi = sin(B), each rounded
  to a double; S_lo = sin(B) - S_hi rounded to a double and then to a float (24 bits);
- pi/32 = P_1 + P_2 + P_3: P_1 and P_2 truncated to 32 significant bits (N * P_1 is exact),
  P_3 the rest rounded; pi/4 = PI_4_HI + PI_4_LO with PI_4_HI truncated to 23 bits;
- 2/pi as 39 32-bit words of its fraction (the last rounded), after two zero words;
- the polynomial coefficients are +-1/k! rounded to doubles.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np


def _pi(digits: int) -> Decimal:
    """pi to `digits` digits (Machin: 16 atan(1/5) - 4 atan(1/239))."""
    with localcontext() as context:
        context.prec = digits + 10

        def atan_inverse(n: int) -> Decimal:
            total, power, k, n2 = Decimal(0), Decimal(1) / n, 0, n * n
            while True:
                term = power / (2 * k + 1)
                if term == 0 or term.adjusted() < -(digits + 10):
                    return total
                total += term if k % 2 == 0 else -term
                power /= n2
                k += 1

        return +(16 * atan_inverse(5) - 4 * atan_inverse(239))


def _sin_cos(b: Decimal) -> tuple[Decimal, Decimal]:
    """(sin b, cos b) by their Taylor series (|b| < 7: converges quickly at this precision)."""
    sine, cosine, term, k = Decimal(0), Decimal(0), Decimal(1), 0
    while True:  # term = b^k / k!
        if k % 4 == 0:
            cosine += term
        elif k % 4 == 1:
            sine += term
        elif k % 4 == 2:
            cosine -= term
        else:
            sine -= term
        k += 1
        term = term * b / k
        if term == 0 or term.adjusted() < -130:
            return sine, cosine


def _truncated(value: Decimal, bits: int) -> float:
    """`value` truncated (toward zero) to `bits` significant bits."""
    exponent = math.frexp(float(value))[1]  # 2**(exponent-1) <= |value| < 2**exponent
    scale = Decimal(2) ** (bits - exponent)
    return float(int(value * scale) / scale)


def _sigma(cosine: Decimal) -> float:
    """The power of two nearest |cos B| on a log scale, signed as cos B (0 for cos B = 0)."""
    magnitude = abs(cosine)
    if magnitude < Decimal(10) ** -100:
        return 0.0
    power = 2.0 ** (math.frexp(float(magnitude))[1] - 1)  # power <= |cos B| < 2 power
    root2 = Decimal(2).sqrt()
    # cos(pi/4) is power * sqrt(2) exactly: the tie goes to the lower power
    nearest = power if magnitude <= Decimal(power) * root2 + Decimal(10) ** -100 else 2 * power
    return math.copysign(nearest, cosine)


def _table() -> np.ndarray:
    """Rows M = 0..63: (C_hl, S_hi, S_lo, sigma) of B = M * pi/32."""
    rows = []
    with localcontext() as context:
        context.prec = 120
        pi = _pi(120)
        for m in range(64):
            sine, cosine = _sin_cos(m * pi / 32)
            if abs(sine) < Decimal(10) ** -100:
                sine = Decimal(0)
            if abs(cosine) < Decimal(10) ** -100:
                cosine = Decimal(0)
            sigma = _sigma(cosine)
            s_hi = float(sine)
            s_lo = float(np.float32(float(sine - Decimal(s_hi)))) + 0.0  # no -0.0
            rows.append((float(cosine - Decimal(sigma)), s_hi, s_lo, sigma))
    return np.array(rows, dtype=np.float64)


def _two_over_pi_words() -> np.ndarray:
    """Two zero words, then the fraction of 2/pi in 39 32-bit words (the last rounded)."""
    with localcontext() as context:
        context.prec = 420
        fraction = 2 / _pi(420)
        words = [0, 0]
        for _ in range(38):
            fraction *= 2**32
            word = int(fraction)
            words.append(word)
            fraction -= word
        words.append(int((fraction * 2**32).to_integral_value()))
    return np.array(words, dtype=np.uint64)


def _pi_parts() -> tuple[float, float, float, float, float, float]:
    """(P_1, P_2, P_3, 32/pi, PI_4_HI, PI_4_LO)."""
    with localcontext() as context:
        context.prec = 120
        pi = _pi(120)
        p1 = _truncated(pi / 32, 32)
        p2 = _truncated(pi / 32 - Decimal(p1), 32)
        p3 = float(pi / 32 - Decimal(p1) - Decimal(p2))
        quarter_hi = _truncated(pi / 4, 23)
        return p1, p2, p3, float(32 / pi), quarter_hi, float(pi / 4 - Decimal(quarter_hi))


def _inverse_factorial(k: int) -> float:
    return float(Fraction(1, math.factorial(k)))


TABLE = _table()  # rows M = 0..63: C_hl, S_hi, S_lo, sigma
TWO_OVER_PI_WORDS = _two_over_pi_words()
P_1, P_2, P_3, PI32_INV, PI_4_HI, PI_4_LO = _pi_parts()
# the polynomial's two lanes: sin(r) - r (over r^3) and cos(r) - 1 (over r^2)
SC_1 = (-_inverse_factorial(3), -_inverse_factorial(2))
SC_2 = (_inverse_factorial(5), _inverse_factorial(4))
SC_3 = (-_inverse_factorial(7), -_inverse_factorial(6))
SC_4 = (_inverse_factorial(9), _inverse_factorial(8))
