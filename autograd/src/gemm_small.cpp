// Small and thin matrix products (gemm_small.hpp): three register-tiled loops, each vectorised by
// the compiler along one axis of the product, and the one chosen whose axis is the longest after
// its packing cost:
//   rows:    C[i, :] += op(A)[i, p] op(B)[p, :], along n (op(B) packed when transposed);
//   columns: the same on C^T = op(B)^T op(A)^T, along m (op(A)^T packed unless A is transposed);
//   dots:    C[i, j] = op(A)[i, :] . op(B)[:, j], along k (either side packed where strided);
//            with at most 4 columns, a vector's worth of dots at once, their lane sums folded.
// The library is built for baseline x86-64; the loops are compiled again for AVX2+FMA and AVX-512
// (cpu_variant.hpp).
#include "gemm_small.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "cpu_variant.hpp"
#include "gemm_epilogue.hpp"

namespace ag::detail {
namespace {

#define AG_SMALL_INLINE inline __attribute__((always_inline))

template <class T>
struct Args {
  bool trans_a, trans_b;
  std::int64_t m, n, k;
  T alpha;
  const T* A;
  std::int64_t lda;
  const T* B;
  std::int64_t ldb;
  T beta;
  T* C;
  std::int64_t ldc;
  Epilogue<T> epilogue;
};

// Out[r, c] = sum_p S[r s_row + p s_p] P[p ldp + c], stored to C[r c_row + c c_col] as
// alpha Out + beta C: the rows kernel, and the columns kernel on C^T.
template <class T>
struct Axpy {
  std::int64_t rows, cols, k;
  const T* S;
  std::int64_t s_row, s_p;
  const T* P;
  std::int64_t ldp;
  T alpha, beta;
  T* C;
  std::int64_t c_row, c_col;
  // Applied to each sum as it is stored: the bias is C's column's, which is Out's column in the
  // rows kernel (Out = C) and Out's row in the columns kernel (Out = C^T).
  Epilogue<T> epilogue;
};

// C's element c = alpha value + beta c, then the epilogue with column `col`'s bias.
template <class T>
AG_SMALL_INLINE void store(T* c, T alpha, T value, T beta, const Epilogue<T>& e, std::int64_t col) {
  const T v = alpha * value;
  const T sum = beta == T(0) ? v : v + beta * *c;  // beta == 0: C is not read (it may hold NaN)
  *c = epilogue_value(sum, e.bias ? e.bias + col : nullptr, e.relu);
}

// NV vectors of VecBytes (cpu_variant.hpp's Vec): GCC's vector extension keeps a tile's sums in
// registers.
template <class V, class T>
AG_SMALL_INLINE void load(V& v, const T* p) {
  __builtin_memcpy(&v, p, sizeof v);
}

// What the rows kernel's full-width stores apply in registers (Fuse; the other stores take the
// epilogue at run time, one element at a time).
constexpr int kFuseBias = 1, kFuseRelu = 2;

// An R x (NV lanes) tile of Out at (r0, c0) from a P whose rows hold at least NV lanes from c0;
// `width` of its columns are stored.
template <class T, int VecBytes, int R, int NV, bool Contiguous, int Fuse>
AG_SMALL_INLINE void axpy_tile(const Axpy<T>& j, const T* P, std::int64_t ldp, std::int64_t r0,
                               std::int64_t c0, std::int64_t width) {
  using V = typename Vec<T, VecBytes>::type;
  constexpr int L = Vec<T, VecBytes>::lanes;
  V acc[R][NV] = {};
  const T* s = j.S + r0 * j.s_row;
  for (std::int64_t q = 0; q < j.k; ++q, P += ldp, s += j.s_p) {
    V b[NV];
    for (int v = 0; v < NV; ++v) load(b[v], P + v * L);
    for (int r = 0; r < R; ++r) {
      const T a = s[r * j.s_row];
      for (int v = 0; v < NV; ++v) acc[r][v] += a * b[v];
    }
  }
  const Epilogue<T>& e = j.epilogue;
  for (int r = 0; r < R; ++r) {
    T* c = j.C + (r0 + r) * j.c_row + c0 * j.c_col;
    if (Contiguous && width == NV * L) {
      for (int v = 0; v < NV; ++v) {
        V out = j.alpha * acc[r][v];
        if (j.beta != T(0)) {
          V old;
          load(old, c + v * L);
          out += j.beta * old;
        }
        // In registers: a second pass over the block would store each element twice.
        constexpr bool bias = Fuse & kFuseBias, relu = Fuse & kFuseRelu;
        epilogue_vector<T, VecBytes, bias, relu>(out, bias ? e.bias + c0 + v * L : nullptr);
        __builtin_memcpy(c + v * L, &out, sizeof out);
      }
    } else {
      T sums[NV * L];
      __builtin_memcpy(sums, acc[r], sizeof sums);
      for (std::int64_t w = 0; w < width; ++w) {
        store(c + w * j.c_col, j.alpha, sums[w], j.beta, e, Contiguous ? c0 + w : r0 + r);
      }
    }
  }
}

template <class T, int VecBytes, int R, bool Contiguous, int Fuse>
AG_SMALL_INLINE void axpy_rows(const Axpy<T>& j, const T* tail, std::int64_t r0) {
  constexpr int L = Vec<T, VecBytes>::lanes;
  std::int64_t c0 = 0;
  if constexpr ((R <= 2 && VecBytes != 32) || (R == 3 && VecBytes == 64)) {
    // Few rows: tiles four vectors wide, so that enough sums are in flight to hide the
    // multiply-adds' latency over a long k (two ports of 4-cycle multiply-adds need 8; the
    // spiral's 2x64x300 weight gradient 1.3x on AVX-512, its 3x64x300 one as C^T). Three rows
    // only where 32 registers hold the 12 sums. Not on AVX2, where GCC passes the wider tile's
    // operands through the stack and it comes out 2.7x slower.
    for (; c0 + 4 * L <= j.cols; c0 += 4 * L) {
      axpy_tile<T, VecBytes, R, 4, Contiguous, Fuse>(j, j.P + c0, j.ldp, r0, c0, 4 * L);
    }
  }
  for (; c0 + 2 * L <= j.cols; c0 += 2 * L) {
    axpy_tile<T, VecBytes, R, 2, Contiguous, Fuse>(j, j.P + c0, j.ldp, r0, c0, 2 * L);
  }
  const std::int64_t rest = j.cols - c0;
  if (rest > L) {
    axpy_tile<T, VecBytes, R, 2, Contiguous, Fuse>(j, tail, 2 * L, r0, c0, rest);
  } else if (rest > 0) {
    axpy_tile<T, VecBytes, R, 1, Contiguous, Fuse>(j, tail, L, r0, c0, rest);
  }
}

// Room for a packed operand: on the stack up to kLocal elements (no thread-local state: the
// library's TLS block is small and fixed), on the heap beyond.
template <class T>
struct Scratch {
  static constexpr std::size_t kLocal = 2048;
  T local[kLocal];
  std::vector<T> heap;
  T* get(std::int64_t count) {
    if (static_cast<std::size_t>(count) <= kLocal) return local;
    heap.resize(static_cast<std::size_t>(count));
    return heap.data();
  }
};

// The last columns (fewer than two vectors) of P, zero-padded to a whole tile: k x (2 L).
template <class T, int VecBytes>
AG_SMALL_INLINE const T* tail_panel(Scratch<T>& scratch, const Axpy<T>& j) {
  constexpr int L = Vec<T, VecBytes>::lanes;
  const std::int64_t c0 = j.cols / (2 * L) * (2 * L), rest = j.cols - c0;
  if (rest == 0) return nullptr;
  const std::int64_t width = rest > L ? 2 * L : L;
  T* panel = scratch.get(j.k * width);
  for (std::int64_t q = 0; q < j.k; ++q) {
    for (std::int64_t c = 0; c < width; ++c) {
      panel[q * width + c] = c < rest ? j.P[q * j.ldp + c0 + c] : T(0);
    }
  }
  return panel;
}

// Out in blocks of four rows. Out is C itself when Contiguous (the rows kernel), else C^T.
template <class T, int VecBytes, bool Contiguous, int Fuse>
AG_SMALL_INLINE void axpy_all(const Axpy<T>& j, Scratch<T>& scratch) {
  const T* tail = tail_panel<T, VecBytes>(scratch, j);
  for (std::int64_t r0 = 0; r0 < j.rows; r0 += 4) {
    switch (j.rows - r0) {
      case 3:
        axpy_rows<T, VecBytes, 3, Contiguous, Fuse>(j, tail, r0);
        break;
      case 2:
        axpy_rows<T, VecBytes, 2, Contiguous, Fuse>(j, tail, r0);
        break;
      case 1:
        axpy_rows<T, VecBytes, 1, Contiguous, Fuse>(j, tail, r0);
        break;
      default:
        axpy_rows<T, VecBytes, 4, Contiguous, Fuse>(j, tail, r0);
    }
  }
}

// Out[r, c] = X[r, :] . Y[c, :] (rows of length k), stored to C[r ldc + c].
template <class T>
struct Dots {
  std::int64_t rows, cols, k;
  const T* X;
  std::int64_t ldx;
  const T* Y;
  std::int64_t ldy;
  T alpha, beta;
  T* C;
  std::int64_t ldc;
  Epilogue<T> epilogue;  // applied to each dot as it is stored
};

// The sum of a vector's lanes: halves added until 16 bytes remain, then those lanes pairwise.
template <class T, int Bytes>
AG_SMALL_INLINE T lane_sum(const typename Vec<T, Bytes>::type& v) {
  if constexpr (Bytes > 16) {
    typename Vec<T, Bytes / 2>::type low, high;
    __builtin_memcpy(&low, &v, sizeof low);
    __builtin_memcpy(&high, reinterpret_cast<const char*>(&v) + sizeof low, sizeof high);
    return lane_sum<T, Bytes / 2>(low + high);
  } else {
    constexpr int L = Bytes / static_cast<int>(sizeof(T));
    T lanes[L];
    __builtin_memcpy(lanes, &v, sizeof lanes);
    if constexpr (L == 4) {
      return (lanes[0] + lanes[2]) + (lanes[1] + lanes[3]);
    } else {
      return lanes[0] + lanes[1];
    }
  }
}

// R dots of X's rows r0.. with Y's row c: 2 L partial sums each, added up at the end.
template <class T, int VecBytes, int R>
AG_SMALL_INLINE void dots_tile(const Dots<T>& j, std::int64_t r0, std::int64_t c) {
  using V = typename Vec<T, VecBytes>::type;
  constexpr int L = Vec<T, VecBytes>::lanes;
  V acc[R][2] = {};
  T tail[R] = {};
  const T* x = j.X + r0 * j.ldx;
  const T* y = j.Y + c * j.ldy;
  std::int64_t q = 0;
  for (; q + 2 * L <= j.k; q += 2 * L) {
    V y0, y1;
    load(y0, y + q);
    load(y1, y + q + L);
    for (int r = 0; r < R; ++r) {
      V x0, x1;
      load(x0, x + r * j.ldx + q);
      load(x1, x + r * j.ldx + q + L);
      acc[r][0] += x0 * y0;
      acc[r][1] += x1 * y1;
    }
  }
  for (; q < j.k; ++q) {
    for (int r = 0; r < R; ++r) tail[r] += x[r * j.ldx + q] * y[q];
  }
  for (int r = 0; r < R; ++r) {
    const T sum = lane_sum<T, VecBytes>(acc[r][0] + acc[r][1]);
    store(j.C + (r0 + r) * j.ldc + c, j.alpha, sum + tail[r], j.beta, j.epilogue, c);
  }
}

template <class T, int VecBytes, int R>
AG_SMALL_INLINE void dots_rows(const Dots<T>& j, std::int64_t r0) {
  for (std::int64_t c = 0; c < j.cols; ++c) dots_tile<T, VecBytes, R>(j, r0, c);
}

// Folding two vectors u, v whose lanes are groups of G: lane i of the result takes, within its
// block of G lanes, u's group there (its first half, or second when High) and then v's. Sources
// stay in the lane's own block, so each fold is an in-lane shuffle, or a move of whole 128- or
// 256-bit halves.
constexpr int fold_source(int lanes, int group, bool high, int i) {
  const int block = i / group * group, within = i % group, half = group / 2;
  const int from_v = within / half;
  return from_v * lanes + block + within % half + (high ? half : 0);
}
template <class V, int L, int G, bool High, int... I>
AG_SMALL_INLINE void fold_half(V& out, const V& u, const V& v, std::integer_sequence<int, I...>) {
  out = __builtin_shufflevector(u, v, fold_source(L, G, High, I)...);
}
// The lane sums of L vectors at once: pairs folded, each group's two halves added, until one
// vector holds the L sums (L - 1 folds, where each lane sum alone takes log2 L steps); lane i
// then holds the sum of vector fold_owner<L>()[i].
template <class V, int L, int G = L>
AG_SMALL_INLINE void fold_sums(V* w) {
  if constexpr (G > 1) {
    for (int i = 0; i < G / 2; ++i) {
      const auto lanes = std::make_integer_sequence<int, L>();
      V low, high;
      fold_half<V, L, G, false>(low, w[2 * i], w[2 * i + 1], lanes);
      fold_half<V, L, G, true>(high, w[2 * i], w[2 * i + 1], lanes);
      w[i] = low + high;
    }
    fold_sums<V, L, G / 2>(w);
  }
}
template <int L>
constexpr std::array<int, L> fold_owner() {
  std::array<std::array<int, L>, L> owner{};
  for (int v = 0; v < L; ++v) owner[v].fill(v);
  for (int group = L; group > 1; group /= 2) {
    for (int k = 0; k < group / 2; ++k) {
      std::array<int, L> folded{};
      for (int i = 0; i < L; ++i) {
        const int source = fold_source(L, group, false, i);
        folded[i] = owner[2 * k + source / L][source % L];
      }
      owner[k] = folded;
    }
  }
  return owner[0];
}
// The lane of the folded vector that holds dot d (fold_owner's inverse).
template <int L>
constexpr int lane_of_dot(int d) {
  const std::array<int, L> owner = fold_owner<L>();
  for (int i = 0; i < L; ++i) {
    if (owner[i] == d) return i;
  }
  return 0;
}
// The folded sums put back in dot order: lane d holds dot d (by reference, as fold_half).
template <class V, int L, int... D>
AG_SMALL_INLINE void in_dot_order(V& out, const V& folded, std::integer_sequence<int, D...>) {
  out = __builtin_shufflevector(folded, folded, lane_of_dot<L>(D)...);
}

// How few_column_block stores: where C is dense (ldc == Cols) its block of R rows is R * Cols
// consecutive elements, stored from one vector in dot order, with the bias laid out alike.
template <class T>
struct FewColumnStore {
  bool dense;
  bool relu;
  const T* bias_lanes;  // bias[d % Cols] at lane d, or null
};

// Products with at most 4 columns (a classifier's logits): R rows at once, each row of X read
// once for all the columns, and the R x Cols dots' lane sums folded together. Each dot is summed
// as dots_tile sums it (two accumulators over alternate vectors, the same tree of lane sums, the
// scalar tail last), so the results are its bit for bit; R is what the registers hold.
template <class T, int VecBytes, int Cols, int R>
AG_SMALL_INLINE void few_column_block(const Dots<T>& j, const FewColumnStore<T>& out,
                                      std::int64_t r0) {
  using V = typename Vec<T, VecBytes>::type;
  constexpr int L = Vec<T, VecBytes>::lanes;
  V acc[R * Cols][2] = {};
  T tail[L] = {};  // dot d's scalar tail at d; the lanes past R * Cols stay zero
  const T* x = j.X + r0 * j.ldx;
  std::int64_t q = 0;
  // Unrolled, so that y and acc stay in registers (GCC otherwise keeps y on the stack, stored
  // in 16-byte halves that a 32-byte load cannot be forwarded from: 4x slower on AVX2).
  for (; q + 2 * L <= j.k; q += 2 * L) {
    V y[Cols][2];
#pragma GCC unroll 4
    for (int c = 0; c < Cols; ++c) {
      load(y[c][0], j.Y + c * j.ldy + q);
      load(y[c][1], j.Y + c * j.ldy + q + L);
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        V xr;
        load(xr, x + r * j.ldx + q + h * L);
#pragma GCC unroll 4
        for (int c = 0; c < Cols; ++c) acc[r * Cols + c][h] += xr * y[c][h];
      }
    }
  }
  for (; q < j.k; ++q) {
    for (int r = 0; r < R; ++r) {
      for (int c = 0; c < Cols; ++c) tail[r * Cols + c] += x[r * j.ldx + q] * j.Y[c * j.ldy + q];
    }
  }
  V sums[L] = {};  // dot (r, c) at r * Cols + c; the vectors past R * Cols stay zero
  for (int d = 0; d < R * Cols; ++d) sums[d] = acc[d][0] + acc[d][1];
  fold_sums<V, L>(sums);
  if (out.dense) {
    // The scalar stores' arithmetic lane by lane (store(), epilogue_value()), in one vector: the
    // dozen stores one at a time, each testing the epilogue, took half as long again as the
    // dots (the spiral's 300x3x64 logits with their bias, 10.9k against 7.1k cycles).
    V tails, value;
    in_dot_order<V, L>(value, sums[0], std::make_integer_sequence<int, L>());
    __builtin_memcpy(&tails, tail, sizeof tails);
    value = j.alpha * (value + tails);
    T* c = j.C + r0 * Cols;
    if (j.beta != T(0)) {
      V old = {};
      __builtin_memcpy(&old, c, sizeof(T) * R * Cols);
      value = value + j.beta * old;
    }
    if (out.bias_lanes) epilogue_vector<T, VecBytes, true, false>(value, out.bias_lanes);
    if (out.relu) epilogue_vector<T, VecBytes, false, true>(value, nullptr);
    __builtin_memcpy(c, &value, sizeof(T) * R * Cols);
    return;
  }
  constexpr std::array<int, L> owner = fold_owner<L>();
  for (int i = 0; i < L; ++i) {
    const int d = owner[i];
    if (d < R * Cols) {
      store(j.C + (r0 + d / Cols) * j.ldc + d % Cols, j.alpha, sums[0][i] + tail[d], j.beta,
            j.epilogue, d % Cols);
    }
  }
}

template <class T, int VecBytes, int Cols>
AG_SMALL_INLINE std::int64_t few_column_dots(const Dots<T>& j) {
  constexpr int L = Vec<T, VecBytes>::lanes;
  constexpr int kRegisters = VecBytes == 64 ? 32 : 16;
  // 2 R Cols sums, 2 Cols vectors of Y and one of X.
  constexpr int R = std::min(L / Cols, (kRegisters - 2 * Cols - 1) / (2 * Cols));
  std::int64_t r0 = 0;
  if constexpr (R >= 2) {  // one row at a time would gain nothing over dots_tile
    T bias_lanes[L] = {};
    if (j.epilogue.bias) {
      for (int d = 0; d < R * Cols; ++d) bias_lanes[d] = j.epilogue.bias[d % Cols];
    }
    const FewColumnStore<T> out{j.ldc == Cols, j.epilogue.relu,
                                j.epilogue.bias ? bias_lanes : nullptr};
    for (; r0 + R <= j.rows; r0 += R) few_column_block<T, VecBytes, Cols, R>(j, out, r0);
  }
  return r0;
}

template <class T, int VecBytes>
AG_SMALL_INLINE void dots_all(const Dots<T>& j) {
  std::int64_t r0 = 0;
  switch (j.cols) {  // the rows a few-column block leaves go on below
    case 1:
      r0 = few_column_dots<T, VecBytes, 1>(j);
      break;
    case 2:
      r0 = few_column_dots<T, VecBytes, 2>(j);
      break;
    case 3:
      r0 = few_column_dots<T, VecBytes, 3>(j);
      break;
    case 4:
      r0 = few_column_dots<T, VecBytes, 4>(j);
      break;
  }
  for (; r0 + 4 <= j.rows; r0 += 4) dots_rows<T, VecBytes, 4>(j, r0);
  switch (j.rows - r0) {
    case 3:
      return dots_rows<T, VecBytes, 3>(j, r0);
    case 2:
      return dots_rows<T, VecBytes, 2>(j, r0);
    case 1:
      return dots_rows<T, VecBytes, 1>(j, r0);
  }
}

// dst[c rows + r] = src[r ld + c]: a rows x cols matrix transposed into a dense one.
template <class T>
AG_SMALL_INLINE const T* transposed(Scratch<T>& scratch, const T* src, std::int64_t rows,
                                    std::int64_t cols, std::int64_t ld) {
  T* dst = scratch.get(rows * cols);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) dst[c * rows + r] = src[r * ld + c];
  }
  return dst;
}

// Vector operations to cover `length` elements `lanes` at a time (the last one zero-padded).
double vector_ops(std::int64_t length, std::int64_t lanes) {
  return static_cast<double>((length + lanes - 1) / lanes);
}

// The kernel with the least estimated work: multiply-adds by vector ops along its axis, plus
// the packing, the (strided, for columns) stores and the horizontal sums of dots.
template <class T>
SmallKernel choose(const Args<T>& a) {
  constexpr std::int64_t lanes = 32 / sizeof(T);
  const double m = static_cast<double>(a.m), n = static_cast<double>(a.n),
               k = static_cast<double>(a.k);
  const double rows = m * k * vector_ops(a.n, lanes) + (a.trans_b ? k * n : 0.0) + m * n;
  const double columns = n * k * vector_ops(a.m, lanes) + (a.trans_a ? 0.0 : k * m) + 2.0 * m * n;
  const double dots = m * n * (vector_ops(a.k, lanes) + 8.0) + (a.trans_a ? m * k : 0.0) +
                      (a.trans_b ? 0.0 : k * n);
  if (rows <= columns && rows <= dots) return SmallKernel::rows;
  return columns <= dots ? SmallKernel::columns : SmallKernel::dots;
}

// The kernels, each run as a function of its own (run_in_variant). The description is copied
// into it, where it is a local that C's stores cannot alias (alpha and beta stay in registers).
template <bool Contiguous, int Fuse>
struct AxpyAll {
  template <int VecBytes, class T>
  AG_SMALL_INLINE static void run(const Axpy<T>* description, Scratch<T>* scratch) {
    const Axpy<T> j = *description;
    axpy_all<T, VecBytes, Contiguous, Fuse>(j, *scratch);
  }
};
struct DotsAll {
  template <int VecBytes, class T>
  AG_SMALL_INLINE static void run(const Dots<T>* description) {
    const Dots<T> j = *description;
    dots_all<T, VecBytes>(j);
  }
};

// The product on a CPU with VecBytes-wide vectors: tiles two vectors wide.
template <class T, int VecBytes>
AG_SMALL_INLINE SmallKernel product(const Args<T>& a) {
  if (a.k == 0) {
    for (std::int64_t i = 0; i < a.m; ++i) {
      T* row = a.C + i * a.ldc;
      for (std::int64_t j = 0; j < a.n; ++j) row[j] = a.beta == T(0) ? T(0) : a.beta * row[j];
    }
    if (a.epilogue.any()) epilogue_rows<T, VecBytes>(a.C, a.ldc, a.m, a.n, a.epilogue);
    return SmallKernel::rows;
  }
  Scratch<T> first, second;
  const SmallKernel kernel = choose(a);
  switch (kernel) {
    case SmallKernel::rows: {
      const T* P = a.trans_b ? transposed(first, a.B, a.n, a.k, a.ldb) : a.B;
      const Axpy<T> j{a.m,
                      a.n,
                      a.k,
                      a.A,
                      a.trans_a ? 1 : a.lda,
                      a.trans_a ? a.lda : 1,
                      P,
                      a.trans_b ? a.n : a.ldb,
                      a.alpha,
                      a.beta,
                      a.C,
                      a.ldc,
                      1,
                      a.epilogue};
      // The epilogue as a template argument: tested per stored vector, it cost more than the
      // pass after the product that it replaces.
      if (!a.epilogue.any()) {
        run_in_variant<VecBytes, AxpyAll<true, 0>>(&j, &second);
      } else if (!a.epilogue.relu) {
        run_in_variant<VecBytes, AxpyAll<true, kFuseBias>>(&j, &second);
      } else if (!a.epilogue.bias) {
        run_in_variant<VecBytes, AxpyAll<true, kFuseRelu>>(&j, &second);
      } else {
        run_in_variant<VecBytes, AxpyAll<true, kFuseBias | kFuseRelu>>(&j, &second);
      }
      break;
    }
    case SmallKernel::columns: {
      const T* P = a.trans_a ? a.A : transposed(first, a.A, a.m, a.k, a.lda);
      const Axpy<T> j{a.n,
                      a.m,
                      a.k,
                      a.B,
                      a.trans_b ? a.ldb : 1,
                      a.trans_b ? 1 : a.ldb,
                      P,
                      a.trans_a ? a.lda : a.m,
                      a.alpha,
                      a.beta,
                      a.C,
                      1,
                      a.ldc,
                      a.epilogue};
      // C^T: the epilogue in the scalar stores
      run_in_variant<VecBytes, AxpyAll<false, 0>>(&j, &second);
      break;
    }
    case SmallKernel::dots: {
      const T* X = a.trans_a ? transposed(first, a.A, a.k, a.m, a.lda) : a.A;
      const T* Y = a.trans_b ? a.B : transposed(second, a.B, a.k, a.n, a.ldb);
      const Dots<T> j{a.m,
                      a.n,
                      a.k,
                      X,
                      a.trans_a ? a.k : a.lda,
                      Y,
                      a.trans_b ? a.ldb : a.k,
                      a.alpha,
                      a.beta,
                      a.C,
                      a.ldc,
                      a.epilogue};
      run_in_variant<VecBytes, DotsAll>(&j);
      break;
    }
  }
  return kernel;
}

// The product in one CPU variant (cpu_variant.hpp).
struct SmallProduct {
  template <int VecBytes, class T>
  AG_SMALL_INLINE static SmallKernel run(const Args<T>* a) {
    return product<T, VecBytes>(*a);
  }
};

}  // namespace

bool small_gemm_suits(std::int64_t m, std::int64_t n, std::int64_t k) noexcept {
  const double macs = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  return macs <= kSmallGemmMacs;
}

const char* small_gemm_name(SmallKernel kernel) noexcept {
  static const char* const names[3][kSmallKernels] = {
      {"small rows (x86-64)", "small columns (x86-64)", "small dots (x86-64)"},
      {"small rows (AVX2)", "small columns (AVX2)", "small dots (AVX2)"},
      {"small rows (AVX-512)", "small columns (AVX-512)", "small dots (AVX-512)"}};
  return names[cpu_variant()][static_cast<int>(kernel)];
}

SmallKernel small_gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                       float alpha, const float* A, std::int64_t lda, const float* B,
                       std::int64_t ldb, float beta, float* C, std::int64_t ldc,
                       const Epilogue<float>& epilogue) {
  const Args<float> args{trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, epilogue};
  return run_for_cpu<SmallProduct>(&args);
}

SmallKernel small_gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                       double alpha, const double* A, std::int64_t lda, const double* B,
                       std::int64_t ldb, double beta, double* C, std::int64_t ldc,
                       const Epilogue<double>& epilogue) {
  const Args<double> args{trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, epilogue};
  return run_for_cpu<SmallProduct>(&args);
}

}  // namespace ag::detail
