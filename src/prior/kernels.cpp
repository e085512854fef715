// GCC 12 targeting AVX2 (this project's EPYC) leaves every loop over
// vmath::exp scalar, "control flow in loop": under -ftrapping-math it will
// not if-convert exp's final NaN select (x != x ? x : y), though without
// AVX-512's masked operations; with -fno-trapping-math the gates and the
// softmax vectorize (8 floats at a time). The option changes no result: it
// only lets the compiler assume that floating-point operations do not trap,
// and aevb never unmasks floating-point exceptions. Before the includes, so
// that the inline vmath functions are compiled with it too. GCC's alone:
// clang does not know the pragma.
#if !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

#include "prior/kernels.hpp"

#include "backend/cpu/vector_math.hpp"
#include "core/scalar_math.hpp"
#include "core/thread_pool.hpp"

#include <algorithm>
#include <cmath>

namespace aevb::pixelcnn {
namespace {

// A transcendental per element pays for a pool job sooner than a copy does
// (the threshold of nn/activation.cpp's transcendental kernels).
constexpr std::size_t kParallelTranscendental = 1 << 13;

// The transcendentals: vectorizable approximations for float, libm for double.
template <class T>
struct Fn;
template <>
struct Fn<float> {
  static float tanh(float x) { return vmath::tanh(x); }
  static float sigmoid(float x) { return vmath::sigmoid(x); }
  static float exp(float x) { return vmath::exp(x); }
};
template <>
struct Fn<double> {
  static double tanh(double x) { return std::tanh(x); }
  static double sigmoid(double x) { return aevb::sigmoid(x); }
  static double exp(double x) { return std::exp(x); }
};

// body(first, last) over ranges of [0, count) items of `per_item` elements
// each, in parallel once the whole is `threshold` elements or more.
template <class F>
void for_items(std::size_t count, std::size_t per_item, std::size_t threshold, const F& body) {
  pool::for_ranges(count, body, count * per_item >= threshold);
}

}  // namespace

template <class T>
void embed(std::size_t channels, std::size_t n, const std::uint32_t* codes, const T* table, T* e) {
  for_items(channels, n, kParallelElements, [&](std::size_t first, std::size_t last) {
    for (std::size_t c = first; c < last; ++c)
      for (std::size_t col = 0; col < n; ++col) e[c * n + col] = table[std::size_t(codes[col]) * channels + c];
  });
}

template <class T>
void embed_backward(std::size_t codes_k, std::size_t channels, std::size_t n, const std::uint32_t* codes, const T* de,
                    T* dtable) {
  // By channel: each thread owns whole columns of the table, and sums each
  // entry over the positions in order.
  for_items(channels, n, kParallelElements, [&](std::size_t first, std::size_t last) {
    for (std::size_t c = first; c < last; ++c) {
      for (std::size_t k = 0; k < codes_k; ++k) dtable[k * channels + c] = T(0);
      for (std::size_t col = 0; col < n; ++col) dtable[std::size_t(codes[col]) * channels + c] += de[c * n + col];
    }
  });
}

template <class T>
void fill_bias(std::size_t rows, std::size_t n, const T* bias, const T* skip, T* out) {
  for_items(rows, n, kParallelElements, [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r) {
      T* o = out + r * n;
      const T b = bias[r];
      if (skip) {
        const T* s = skip + r * n;
#pragma omp simd
        for (std::size_t i = 0; i < n; ++i) o[i] = b + s[i];
      } else {
        std::fill_n(o, n, b);
      }
    }
  });
}

template <class T>
void broadcast_rows(std::size_t rows, std::size_t k, const T* bias, T* out) {
  for_items(rows, k, kParallelElements, [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r) std::copy_n(bias, k, out + r * k);
  });
}

template <class T>
void gate_forward(std::size_t channels, std::size_t n, const T* a, T* gate, T* y) {
  for_items(channels, 2 * n, kParallelTranscendental, [&](std::size_t first, std::size_t last) {
    for (std::size_t c = first; c < last; ++c) {
      const T* at = a + c * n;
      const T* as = a + (channels + c) * n;
      T* gt = gate + c * n;
      T* gs = gate + (channels + c) * n;
      T* out = y + c * n;
#pragma omp simd
      for (std::size_t i = 0; i < n; ++i) {
        const T t = Fn<T>::tanh(at[i]), s = Fn<T>::sigmoid(as[i]);
        gt[i] = t;
        gs[i] = s;
        out[i] = t * s;
      }
    }
  });
}

template <class T>
void gate_backward(std::size_t channels, std::size_t n, const T* gate, const T* dy, T* da, bool accumulate) {
  for_items(channels, 2 * n, kParallelElements, [&](std::size_t first, std::size_t last) {
    for (std::size_t c = first; c < last; ++c) {
      const T* gt = gate + c * n;
      const T* gs = gate + (channels + c) * n;
      const T* d = dy + c * n;
      T* dt = da + c * n;
      T* ds = da + (channels + c) * n;
      if (accumulate) {
#pragma omp simd
        for (std::size_t i = 0; i < n; ++i) {
          const T t = gt[i], s = gs[i];
          dt[i] += d[i] * s * (T(1) - t * t);
          ds[i] += d[i] * t * s * (T(1) - s);
        }
      } else {
#pragma omp simd
        for (std::size_t i = 0; i < n; ++i) {
          const T t = gt[i], s = gs[i];
          dt[i] = d[i] * s * (T(1) - t * t);
          ds[i] = d[i] * t * s * (T(1) - s);
        }
      }
    }
  });
}

template <class T>
void relu(T* x, std::size_t n) {
  pool::for_ranges(
      n,
      [&](std::size_t first, std::size_t last) {
#pragma omp simd
        for (std::size_t i = first; i < last; ++i) x[i] = x[i] > T(0) ? x[i] : T(0);
      },
      n >= kParallelElements);
}

template <class T>
void relu_backward(const T* y, T* dy, std::size_t n) {
  pool::for_ranges(
      n,
      [&](std::size_t first, std::size_t last) {
#pragma omp simd
        for (std::size_t i = first; i < last; ++i) dy[i] = y[i] > T(0) ? dy[i] : T(0);
      },
      n >= kParallelElements);
}

template <class T>
void row_sums(std::size_t rows, std::size_t n, const T* x, T* out) {
  for_items(rows, n, kParallelElements, [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r) out[r] = fixed_order_sum(x + r * n, n);
  });
}

template <class T>
void column_sums(std::size_t rows, std::size_t k, const T* x, T* out) {
  for_items(k, rows, kParallelElements, [&](std::size_t first, std::size_t last) {
    std::fill(out + first, out + last, T(0));
    for (std::size_t r = 0; r < rows; ++r) {
      const T* row = x + r * k;
#pragma omp simd
      for (std::size_t j = first; j < last; ++j) out[j] += row[j];
    }
  });
}

template <class T>
void softmax_nll(std::size_t rows, std::size_t k, const T* logits, const std::uint32_t* codes, T* probs, double* nll) {
  for_items(rows, k, kParallelTranscendental, [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r) {
      const T* l = logits + r * k;
      T* p = probs + r * k;
      const T top = *std::max_element(l, l + k);
#pragma omp simd
      for (std::size_t j = 0; j < k; ++j) p[j] = Fn<T>::exp(l[j] - top);
      const T sum = fixed_order_sum(p, k), inv = T(1) / sum;
#pragma omp simd
      for (std::size_t j = 0; j < k; ++j) p[j] *= inv;
      nll[r] = double(top) + std::log(double(sum)) - double(l[codes[r]]);
    }
  });
}

template <class T>
void softmax_backward(std::size_t rows, std::size_t k, const std::uint32_t* codes, T scale, T* probs) {
  for_items(rows, k, kParallelElements, [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r) {
      T* p = probs + r * k;
      p[codes[r]] -= T(1);
#pragma omp simd
      for (std::size_t j = 0; j < k; ++j) p[j] *= scale;
    }
  });
}

#define AEVB_PIXELCNN_KERNELS(T)                                                                                  \
  template void embed<T>(std::size_t, std::size_t, const std::uint32_t*, const T*, T*);                         \
  template void embed_backward<T>(std::size_t, std::size_t, std::size_t, const std::uint32_t*, const T*, T*);   \
  template void fill_bias<T>(std::size_t, std::size_t, const T*, const T*, T*);                                 \
  template void broadcast_rows<T>(std::size_t, std::size_t, const T*, T*);                                      \
  template void gate_forward<T>(std::size_t, std::size_t, const T*, T*, T*);                                    \
  template void gate_backward<T>(std::size_t, std::size_t, const T*, const T*, T*, bool);                       \
  template void relu<T>(T*, std::size_t);                                                                       \
  template void relu_backward<T>(const T*, T*, std::size_t);                                                    \
  template void row_sums<T>(std::size_t, std::size_t, const T*, T*);                                            \
  template void column_sums<T>(std::size_t, std::size_t, const T*, T*);                                         \
  template void softmax_nll<T>(std::size_t, std::size_t, const T*, const std::uint32_t*, T*, double*);          \
  template void softmax_backward<T>(std::size_t, std::size_t, const std::uint32_t*, T, T*);
AEVB_PIXELCNN_KERNELS(float)
AEVB_PIXELCNN_KERNELS(double)
#undef AEVB_PIXELCNN_KERNELS

}  // namespace aevb::pixelcnn
