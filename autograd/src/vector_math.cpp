// vector_math.hpp's exp and log. exp: e^x = 2^k e^r with k = round(x / ln 2) and |r| <= ln 2 / 2,
// e^r from its Taylor series to degree 12 (the first term left out is below 2^-52 of the result),
// all in float64, eight floats per AVX-512 vector. glibc's expf is a call per element that cannot
// be vectorised; this is what made cross_entropy a fifth of a small classifier's epoch. And
// softmax's exponentials of short rows, several rows per vector, built on the same exp.
#include "vector_math.hpp"

#include <algorithm>
#include <cstring>

#include "cpu_variant.hpp"

namespace ag::detail {
namespace {

#define AG_VECTOR_INLINE inline __attribute__((always_inline))
// The helpers below pass vectors by value; they are always inlined into their variant, so no
// call crosses the ABI boundary GCC warns about.
#pragma GCC diagnostic ignored "-Wpsabi"

// mask ? a : b, lane by lane (a comparison sets all bits of a lane or none).
template <class V, class I>
AG_VECTOR_INLINE V select(I mask, V a, V b) {
  return reinterpret_cast<V>((mask & reinterpret_cast<I>(a)) | (~mask & reinterpret_cast<I>(b)));
}

// c0 + x (c1 + x (c2 + ...)): Horner's rule, the innermost coefficient first.
template <class V>
AG_VECTOR_INLINE V horner(V, double c) {
  return V{} + c;
}
template <class V, class... C>
AG_VECTOR_INLINE V horner(V x, double c, C... rest) {
  return horner(x, rest...) * x + c;
}

// float64 lanes of VecBytes, and the integer lanes of their bits.
template <int VecBytes>
using Lanes = typename Vec<double, VecBytes>::type;
template <int VecBytes>
using Bits = typename Vec<std::int64_t, VecBytes>::type;

// x[0 .. lanes) widened to float64 lanes, and back (each loop compiles to one conversion).
template <int VecBytes>
AG_VECTOR_INLINE Lanes<VecBytes> widen(const float* x) {
  Lanes<VecBytes> d;
  for (int j = 0; j < Vec<double, VecBytes>::lanes; ++j) d[j] = x[j];
  return d;
}
template <int VecBytes>
AG_VECTOR_INLINE void narrow(const Lanes<VecBytes>& d, float* x) {
  for (int j = 0; j < Vec<double, VecBytes>::lanes; ++j) x[j] = static_cast<float>(d[j]);
}

// e^d in float64 lanes, for d that are floats (widened); rounded to float by the caller.
template <int VecBytes>
AG_VECTOR_INLINE Lanes<VecBytes> exp_lanes(Lanes<VecBytes> d) {
  using V = Lanes<VecBytes>;
  using I = Bits<VecBytes>;
  // Beyond these e^d is inf or 0 as a float, and k stays a normal exponent; NaN passes (its
  // comparisons are false, so no lane of the masks is set).
  const V hi = V{} + 89.0, lo = V{} + -104.0;
  const I above = d > hi, below = d < lo;
  d = select(below, lo, select(above, hi, d));
  // k = round-to-nearest(d / ln 2), read from the low bits of t (the 1.5 * 2^52 shift).
  const V shift = V{} + 0x1.8p52;
  const V t = d * 0x1.71547652b82fep0 + shift;
  const V k = t - shift;
  const I k_bits = reinterpret_cast<I>(t) - reinterpret_cast<I>(shift);
  // r = d - k ln 2, with ln 2 in two parts: k * ln2_hi is exact (ln2_hi ends in 21 zero bits).
  V r = d - k * 0x1.62e42fee00000p-1;
  r = r - k * 0x1.a39ef35793c76p-33;
  // e^r = sum of r^j / j!, j = 0 .. 12.
  const V p = horner(r, 1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040,
                     1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600);
  // 2^k as a double: the biased exponent k + 1023 (873 .. 1151 after the clamps).
  const V scale = reinterpret_cast<V>((k_bits + 1023) << 52);
  return p * scale;
}
// x[0 .. VecBytes / 8) = e^x.
template <int VecBytes>
AG_VECTOR_INLINE void exp_block(float* x) {
  narrow<VecBytes>(exp_lanes<VecBytes>(widen<VecBytes>(x)), x);
}

// log x = e ln 2 + log m for x = 2^e m, m in [sqrt(1/2), sqrt(2)), and log m = 2 atanh(s) with
// s = (m - 1) / (m + 1), |s| <= 0.172: its odd series to s^21 (the first term left out is below
// 2^-55 of the result), in float64 lanes like exp_block.
template <int VecBytes>
AG_VECTOR_INLINE void log_block(float* x) {
  using V = Lanes<VecBytes>;
  using I = Bits<VecBytes>;
  const V d = widen<VecBytes>(x);  // a float's subnormals are normal doubles
  const I bits = reinterpret_cast<I>(d);
  I e = ((bits >> 52) & 0x7ff) - 1023;
  V m = reinterpret_cast<V>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);  // [1, 2)
  const I halve = m > 0x1.6a09e667f3bcdp0;                                      // sqrt(2)
  m = select(halve, m * 0.5, m);
  e -= halve;  // the mask is -1 where set
  const V s = (m - 1.0) / (m + 1.0);
  const V s2 = s * s;
  const V p = horner(s2, 1.0, 1.0 / 3, 1.0 / 5, 1.0 / 7, 1.0 / 9, 1.0 / 11, 1.0 / 13, 1.0 / 15,
                     1.0 / 17, 1.0 / 19, 1.0 / 21);  // atanh(s) / s
  V k;
  for (int j = 0; j < Vec<double, VecBytes>::lanes; ++j) k[j] = static_cast<double>(e[j]);
  // e ln 2 in two parts, the small one added to the small log m first.
  V r = k * 0x1.62e42fee00000p-1 + (2.0 * s * p + k * 0x1.a39ef35793c76p-33);
  // 0 gives -inf, a negative number NaN, +inf and NaN themselves.
  const V inf = V{} + __builtin_inf();
  // NaN and +inf are the lanes not below +inf: one vector comparison, where GCC 12 compiled
  // (d != d) | (d == inf) lane by lane (log of 300 floats 1.2 -> 0.44 us, AVX-512).
  const I zero = d == 0.0, negative = d < 0.0, itself = ~(d < inf);
  r = select(itself, d, select(negative, V{} + __builtin_nan(""), select(zero, -inf, r)));
  narrow<VecBytes>(r, x);
}

// One of the blocks over a buffer: whole vectors, then the tail through the same lanes (padded
// with 1), so that no result depends on where it sits.
template <void (*Block16)(float*), void (*Block32)(float*), void (*Block64)(float*)>
struct InPlace {
  template <int VecBytes>
  AG_VECTOR_INLINE static void run(float* x, std::int64_t count) {
    constexpr auto block = VecBytes == 64 ? Block64 : VecBytes == 32 ? Block32 : Block16;
    constexpr int L = VecBytes / 8;  // float64 lanes
    std::int64_t i = 0;
    for (; i + L <= count; i += L) block(x + i);
    if (i == count) return;
    float tail[L];
    for (float& t : tail) t = 1.0f;
    const auto rest = static_cast<std::size_t>(count - i);
    std::memcpy(tail, x + i, rest * sizeof(float));
    block(tail);
    std::memcpy(x + i, tail, rest * sizeof(float));
  }
};
using Exp = InPlace<exp_block<16>, exp_block<32>, exp_block<64>>;
using Log = InPlace<log_block<16>, log_block<32>, log_block<64>>;

// Short rows, one row per lane. A chunk of rows is transposed into scratch, so that column k of
// the chunk is contiguous and a row's max, exponentials and sum are lane-wise steps over whole
// vectors instead of loops of n; the results are transposed back. The steps are the scalar
// loops' float32 operations (only exp works in float64 lanes, as exp_block does).
struct ShortRows {
  static constexpr int kChunk = 64;  // rows per transposed chunk: 4 KB of scratch at n = 16
  template <int VecBytes>
  AG_VECTOR_INLINE static void run(const float* x, float* q, float* maxima, float* totals,
                                   std::int64_t rows, std::int64_t n, bool normalise) {
    switch (n) {  // two to four classes, the common classifiers, with n fixed: the loops unroll
      case 2:
        return chunks<VecBytes, 2>(x, q, maxima, totals, rows, n, normalise);
      case 3:
        return chunks<VecBytes, 3>(x, q, maxima, totals, rows, n, normalise);
      case 4:
        return chunks<VecBytes, 4>(x, q, maxima, totals, rows, n, normalise);
      default:
        return chunks<VecBytes, 0>(x, q, maxima, totals, rows, n, normalise);
    }
  }
  // Cols > 0 fixes n at compile time; 0 takes it from the argument.
  template <int VecBytes, int Cols>
  AG_VECTOR_INLINE static void chunks(const float* x, float* q, float* maxima, float* totals,
                                      std::int64_t rows, std::int64_t runtime_n, bool normalise) {
    const std::int64_t n = Cols > 0 ? Cols : runtime_n;
    constexpr int L = Vec<double, VecBytes>::lanes;
    using F = typename Vec<float, VecBytes / 2>::type;  // L floats
    alignas(64) float columns[kShortRow * kChunk];      // column k at k * kChunk
    for (std::int64_t r0 = 0; r0 < rows; r0 += kChunk) {
      const std::int64_t count = std::min<std::int64_t>(kChunk, rows - r0);
      const std::int64_t padded = (count + L - 1) / L * L;  // zero rows fill the last vector
      const float* in = x + r0 * n;
      for (std::int64_t r = 0; r < count; ++r) {
        for (std::int64_t k = 0; k < n; ++k) columns[k * kChunk + r] = in[r * n + k];
      }
      for (std::int64_t r = count; r < padded; ++r) {
        for (std::int64_t k = 0; k < n; ++k) columns[k * kChunk + r] = 0.0f;
      }
      alignas(64) float m_chunk[kChunk], t_chunk[kChunk];
      for (std::int64_t r = 0; r < padded; r += L) {
        const auto column = [&](std::int64_t k) {
          F v;
          __builtin_memcpy(&v, columns + k * kChunk + r, sizeof v);
          return v;
        };
        // std::max's rule, (m < v) ? v : m, so that NaN and signed zeros come out as in the
        // scalar loop: a NaN first stays, a NaN later is passed over.
        F m = column(0);
        for (std::int64_t k = 1; k < n; ++k) {
          const F v = column(k);
          m = select(m < v, v, m);
        }
        F total{};
        for (std::int64_t k = 0; k < n; ++k) {
          const Lanes<VecBytes> d = __builtin_convertvector(column(k) - m, Lanes<VecBytes>);
          const F e = __builtin_convertvector(exp_lanes<VecBytes>(d), F);
          total += e;
          __builtin_memcpy(columns + k * kChunk + r, &e, sizeof e);
        }
        __builtin_memcpy(m_chunk + r, &m, sizeof m);
        __builtin_memcpy(t_chunk + r, &total, sizeof total);
      }
      if (normalise) {
        for (std::int64_t k = 0; k < n; ++k) {
          for (std::int64_t r = 0; r < padded; ++r) columns[k * kChunk + r] /= t_chunk[r];
        }
      }
      float* out = q + r0 * n;
      for (std::int64_t r = 0; r < count; ++r) {
        for (std::int64_t k = 0; k < n; ++k) out[r * n + k] = columns[k * kChunk + r];
      }
      std::memcpy(maxima + r0, m_chunk, static_cast<std::size_t>(count) * sizeof(float));
      std::memcpy(totals + r0, t_chunk, static_cast<std::size_t>(count) * sizeof(float));
    }
  }
};

}  // namespace

void exp_in_place(float* x, std::int64_t count) { run_for_cpu<Exp>(x, count); }
void log_in_place(float* x, std::int64_t count) { run_for_cpu<Log>(x, count); }
void short_row_exponentials(const float* x, float* q, float* maxima, float* totals,
                            std::int64_t rows, std::int64_t n, bool normalise) {
  if (rows <= 0 || n <= 0 || n > kShortRow) return;
  run_for_cpu<ShortRows>(x, q, maxima, totals, rows, n, normalise);
}

}  // namespace ag::detail
