#include "nn/conv.hpp"

#include "backend/gemm.hpp"
#include "core/param_layout.hpp"
#include "core/scalar_math.hpp"
#include "core/thread_pool.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace aevb {

using backend::gemm_untiled;
using backend::Trans;

namespace {

// ---- Shapes.

void check_image(Shape in) {
  if (!in.is_image()) throw InputError("needs an image input, found " + to_string(in));
}

void check_window(const LayerSpec& spec) {
  if (spec.out == 0) throw InputError("needs at least one output channel");
  if (spec.kernel == 0 || spec.stride == 0)
    throw InputError("kernel and stride must be positive, found kernel " + std::to_string(spec.kernel) +
                     " and stride " + std::to_string(spec.stride));
}

// PyTorch's transposed-convolution size, (in - 1) * stride - 2 * padding +
// kernel + output_padding, or an error naming the side where it is below 1.
std::size_t transposed_size(std::size_t in, const LayerSpec& spec, const char* side, Shape input) {
  const auto value = static_cast<std::int64_t>((in - 1) * spec.stride + spec.kernel + spec.output_padding) -
                     2 * static_cast<std::int64_t>(spec.padding);
  if (value < 1)
    throw InputError(std::string("the output ") + side + " (" + std::to_string(in) + " - 1) * " +
                     std::to_string(spec.stride) + " - 2 * " + std::to_string(spec.padding) + " + " +
                     std::to_string(spec.kernel) + " + " + std::to_string(spec.output_padding) + " = " +
                     std::to_string(value) + " is below 1 (input " + to_string(input) + ")");
  return static_cast<std::size_t>(value);
}

Shape conv_output_shape(Shape in, const LayerSpec& spec) {
  check_image(in);
  check_window(spec);
  if (spec.kernel > in.height + 2 * spec.padding || spec.kernel > in.width + 2 * spec.padding)
    throw InputError("kernel " + std::to_string(spec.kernel) + " is larger than the input " + to_string(in) +
                     " padded by " + std::to_string(spec.padding));
  return {spec.out, (in.height + 2 * spec.padding - spec.kernel) / spec.stride + 1,
          (in.width + 2 * spec.padding - spec.kernel) / spec.stride + 1};
}

Shape deconv_output_shape(Shape in, const LayerSpec& spec) {
  check_image(in);
  check_window(spec);
  if (spec.output_padding >= spec.stride)
    throw InputError("the output padding " + std::to_string(spec.output_padding) +
                     " must be smaller than the stride " + std::to_string(spec.stride));
  return {spec.out, transposed_size(in.height, spec, "height", in), transposed_size(in.width, spec, "width", in)};
}

Shape residual_output_shape(Shape in, const LayerSpec& spec) {
  check_image(in);
  if (spec.out == 0) throw InputError("needs at least one hidden channel");
  return in;
}

LayerSpec conv_spec(std::size_t out, std::size_t kernel, std::size_t stride, std::size_t padding) {
  LayerSpec s;
  s.kind = LayerKind::conv;
  s.out = out;
  s.kernel = kernel;
  s.stride = stride;
  s.padding = padding;
  return s;
}

// ---- im2col and col2im, one (datapoint, channel) plane at a time.
//
// A window at stride s reads the plane as padded with zeros at rows oh s + ki
// and columns ow s + kj. Split into its s x s phases, phase (a, b) holding
// the padded plane's rows s i + a and columns s j + b, the same values are
// phase (ki mod s, kj mod s) at rows oh + ki / s and columns ow + kj / s: a
// window at stride 1, so every row of a patch is a contiguous run of grid_w
// values of one phase (the stride-2 gathers, one value at a time, were a
// fifth of a VQ-VAE training step). Every window lies inside the phases (by
// the output-size formula), so the loops have no bounds to test. A plane
// without padding at stride 1 is its own single phase.

// dst[0, n) = src[0, n) for the short rows of a window (7 to 28 values),
// in whole 32-byte moves, the last one overlapping the one before it: a
// memcpy call per row cost more than the copy.
template <class T>
void copy_row(const T* src, T* dst, std::size_t n) {
  constexpr std::size_t v = 32 / sizeof(T), h = v / 2;
  if (n >= v) {
    std::size_t i = 0;
    for (; i + v <= n; i += v) std::memcpy(dst + i, src + i, 32);
    if (i < n) std::memcpy(dst + n - v, src + n - v, 32);
  } else if (n >= h) {
    std::memcpy(dst, src, 16);
    std::memcpy(dst + n - h, src + n - h, 16);
  } else {
    for (std::size_t i = 0; i < n; ++i) dst[i] = src[i];
  }
}

// Row r of a plane (of `width` values) is row r + p of the padded plane: its
// column c, padded column c + p, goes to phase column b = (c + p) mod s, at
// (c + p) / s. f(c0, b, j0) for each phase column b: the first column c0 that
// goes there and its place j0 (then every s-th column, one place further).
template <class F>
void for_phase_columns(std::size_t s, std::size_t p, const F& f) {
  for (std::size_t b = 0; b < s; ++b) {
    const std::size_t c0 = (b + s - p % s) % s;
    f(c0, b, (c0 + p) / s);
  }
}

// The phases of one plane, zero where they lie in the padding.
template <class T>
void split_phases(const detail::PatchGeometry& g, const T* plane, T* phases) {
  const std::size_t s = g.stride, p = g.padding, pw = g.phase_w(), pp = g.phase_plane(), w = g.width;
  std::fill_n(phases, g.phases_size(), T(0));
  for (std::size_t r = 0; r < g.height; ++r) {
    T* row = phases + ((r + p) % s) * s * pp + ((r + p) / s) * pw;
    const T* from = plane + r * w;
    for_phase_columns(s, p, [&](std::size_t c0, std::size_t b, std::size_t j0) {
      T* to = row + b * pp + j0;
      for (std::size_t c = c0, t = 0; c < w; c += s, ++t) to[t] = from[c];
    });
  }
}

// The plane's values back out of its phases (the padding dropped).
template <class T>
void merge_phases(const detail::PatchGeometry& g, const T* phases, T* plane) {
  const std::size_t s = g.stride, p = g.padding, pw = g.phase_w(), pp = g.phase_plane(), w = g.width;
  for (std::size_t r = 0; r < g.height; ++r) {
    const T* row = phases + ((r + p) % s) * s * pp + ((r + p) / s) * pw;
    T* to = plane + r * w;
    for_phase_columns(s, p, [&](std::size_t c0, std::size_t b, std::size_t j0) {
      const T* from = row + b * pp + j0;
      for (std::size_t c = c0, t = 0; c < w; c += s, ++t) to[c] = from[t];
    });
  }
}

// Where patch row (ki, kj) starts in the phases: phase (ki mod s, kj mod s),
// row ki / s, column kj / s.
inline std::size_t phase_offset(const detail::PatchGeometry& g, std::size_t ki, std::size_t kj) {
  const std::size_t s = g.stride;
  return ((ki % s) * s + kj % s) * g.phase_plane() + (ki / s) * g.phase_w() + kj / s;
}

// The kk rows (ki, kj) of one channel's patches, at column offset n * positions
// of a buffer whose rows are ld long.
template <class T>
void im2col_plane(const detail::PatchGeometry& g, const T* phases, T* cols, std::size_t ld) {
  const std::size_t k = g.kernel, gh = g.grid_h, gw = g.grid_w, pw = g.phase_w();
  for (std::size_t ki = 0; ki < k; ++ki)
    for (std::size_t kj = 0; kj < k; ++kj) {
      const T* src = phases + phase_offset(g, ki, kj);
      T* d = cols + (ki * k + kj) * ld;
      for (std::size_t oh = 0; oh < gh; ++oh) copy_row(src + oh * pw, d + oh * gw, gw);
    }
}

// The adjoint: the phases = the sum over (ki, kj), in that order, of the
// entries that im2col_plane read from each position (written from 0).
template <class T>
void col2im_plane(const detail::PatchGeometry& g, const T* cols, std::size_t ld, T* phases) {
  const std::size_t k = g.kernel, gh = g.grid_h, gw = g.grid_w, pw = g.phase_w();
  std::fill_n(phases, g.split() ? g.phases_size() : g.plane(), T(0));
  for (std::size_t ki = 0; ki < k; ++ki)
    for (std::size_t kj = 0; kj < k; ++kj) {
      T* dst = phases + phase_offset(g, ki, kj);
      const T* c = cols + (ki * k + kj) * ld;
      for (std::size_t oh = 0; oh < gh; ++oh)
        for (std::size_t ow = 0; ow < gw; ++ow) dst[oh * pw + ow] += c[oh * gw + ow];
    }
}

// ---- Planes of [rows, channels, plane] images and [channels, rows * plane] matrices.

// Each plane's work touches only that plane, so any split of the planes
// between threads gives the same result; below kParallelElements values a
// pool job costs more than it saves.
template <class F>
void for_planes(std::size_t planes, std::size_t values, const F& body) {
  pool::for_ranges(
      planes,
      [&](std::size_t first, std::size_t last) {
        for (std::size_t u = first; u < last; ++u) body(u);
      },
      values >= kParallelElements);
}

// dst [channels, rows * plane] from src [rows, channels, plane], or back (to_images).
template <class T>
void transpose_planes(const T* src, T* dst, std::size_t rows, std::size_t channels, std::size_t plane,
                      bool to_images) {
  const std::size_t ld = rows * plane;
  for_planes(rows * channels, rows * channels * plane, [&](std::size_t u) {
    const std::size_t n = u / channels, c = u % channels;
    const T* from = to_images ? src + c * ld + n * plane : src + u * plane;
    T* to = to_images ? dst + u * plane : dst + c * ld + n * plane;
    std::memcpy(to, from, plane * sizeof(T));
  });
}

// body(first image, images, chunk) for every chunk, in parallel, each with
// the caller's precision of float products.
template <class F>
void for_chunks(const detail::Chunks& chunks, const F& body) {
  const MatmulPrecision precision = backend::matmul_precision();
  pool::for_each_task(chunks.count, [&](std::size_t j) {
    const backend::ScopedMatmulPrecision scoped(precision);
    body(chunks.first(j), chunks.images(j), j);
  });
}

// The calling thread's scratch for the chunk it runs, at least n values:
// every chunk of every layer that the thread runs reuses this memory, which
// is still in its cache from the last one (grows only: after the first
// steps, no step allocates).
template <class T>
T* chunk_scratch(std::size_t n) {
  thread_local detail::Scratch<T> scratch;
  scratch.reserve(n);
  return scratch.data();
}

// dW (+)= the chunks' weight gradients sums [chunks, size], added in chunk
// order (into the first chunk's, which they overwrite); nothing with
// GradMode::none.
template <class T>
void weight_gradient(T* sums, std::size_t chunks, std::size_t size, T* dw, GradMode mode) {
  if (mode == GradMode::none) return;
  for (std::size_t j = 1; j < chunks; ++j) {
    const T* chunk = sums + j * size;
    for (std::size_t i = 0; i < size; ++i) sums[i] += chunk[i];
  }
  for (std::size_t i = 0; i < size; ++i) dw[i] = mode == GradMode::overwrite ? sums[i] : dw[i] + sums[i];
}

// The bias gradient from the per-plane sums [rows, channels]: each channel
// summed over the datapoints in order, then written or added once (as a
// product adds to C); nothing with GradMode::none.
template <class T>
void bias_gradient(const T* plane_sums, std::size_t rows, std::size_t channels, T* db, GradMode mode) {
  if (mode == GradMode::none) return;
  for (std::size_t c = 0; c < channels; ++c) {
    T sum = 0;
    for (std::size_t n = 0; n < rows; ++n) sum += plane_sums[n * channels + c];
    db[c] = mode == GradMode::overwrite ? sum : db[c] + sum;
  }
}

}  // namespace

namespace detail {

// The budget of a chunk's buffers, about one core's L2 cache (512 KiB on
// Zen 3, 1 MiB on Zen 4, 2 MiB on Sapphire Rapids) or less than its share of
// L3. On the vq-mnist layers (dev/conv_lab.cpp, Zen 3) budgets of 1 to 8 MiB
// measured within the machine's noise of each other, and 13% faster than
// the whole batch at once.
constexpr std::size_t kChunkBytes = std::size_t(2) << 20;

namespace {
std::size_t images_in_budget(std::size_t bytes_per_image) {
  return std::max<std::size_t>(1, kChunkBytes / std::max<std::size_t>(1, bytes_per_image));
}
std::size_t processors() {
  static const auto procs = static_cast<std::size_t>(pool::processor_count());
  return procs;
}
}  // namespace

Chunks::Chunks(std::size_t rows_, std::size_t bytes) : rows(rows_), bytes_per_image(bytes) {
  size = std::max<std::size_t>(1, std::min(images_in_budget(bytes), (rows + processors() - 1) / processors()));
  count = (rows + size - 1) / size;
}

std::size_t Chunks::most(std::size_t rows, std::size_t bytes) {
  // A batch of r <= rows images cut by the processor count has at most that
  // many chunks; cut by the budget, at most ceil(r / budget) <= ceil(rows / budget).
  const std::size_t budget = images_in_budget(bytes);
  return std::max(std::min(processors(), rows), (rows + budget - 1) / budget);
}

template <class T>
void im2col(const PatchGeometry& g, std::size_t rows, const T* images, T* cols, T* phases) {
  const std::size_t positions = g.positions(), ld = rows * positions, kk = g.kernel * g.kernel;
  // Channel-major: consecutive planes write consecutive stretches of the same kk rows.
  for_planes(rows * g.channels, g.patch() * ld, [&](std::size_t u) {
    const std::size_t c = u / rows, n = u % rows;
    const T* plane = images + (n * g.channels + c) * g.plane();
    if (g.split()) {
      T* own = phases + u * g.phases_size();
      split_phases(g, plane, own);
      plane = own;
    }
    im2col_plane(g, plane, cols + c * kk * ld + n * positions, ld);
  });
}

template <class T>
void col2im(const PatchGeometry& g, std::size_t rows, const T* cols, T* images, T* phases, const T* bias, Act act,
            T slope) {
  const std::size_t positions = g.positions(), ld = rows * positions, kk = g.kernel * g.kernel;
  const bool epilogue = bias != nullptr || act != Act::identity;
  // Channel-major: consecutive planes read consecutive stretches of the same kk rows.
  for_planes(rows * g.channels, g.patch() * ld, [&](std::size_t u) {
    const std::size_t c = u / rows, n = u % rows;
    T* plane = images + (n * g.channels + c) * g.plane();
    if (g.split()) {
      T* own = phases + u * g.phases_size();
      col2im_plane(g, cols + c * kk * ld + n * positions, ld, own);
      merge_phases(g, own, plane);
    } else {
      col2im_plane(g, cols + c * kk * ld + n * positions, ld, plane);
    }
    if (epilogue) bias_activation_span<T>(plane, bias ? bias[c] : T(0), nullptr, plane, g.plane(), act, slope);
  });
}

template <class T>
ConvCore<T>::ConvCore(ParamLayout& layout, const std::string& name, Shape in, std::size_t out, std::size_t kernel,
                      std::size_t stride, std::size_t padding, Act act, float slope)
    : out_(out), act_(act), slope_(static_cast<T>(slope)) {
  const Shape o = conv_output_shape(in, conv_spec(out, kernel, stride, padding));
  geometry_ = {in.channels, in.height, in.width, kernel, stride, padding, o.height, o.width};
  weight_ = layout.add(name + ".weight", {out, in.channels, kernel, kernel});
  bias_ = layout.add(name + ".bias", {out});
}

// What a chunk goes through per image: its columns (kept for the weight
// gradient), and in its thread's scratch its product (later
// dL/d(pre-activation)), its planes' phases and dL/d(columns).
template <class T>
std::size_t ConvCore<T>::scratch_per_image() const {
  const PatchGeometry& g = geometry_;
  return (out_ + g.patch()) * g.positions() + g.channels * g.phases_size();
}

template <class T>
Chunks ConvCore<T>::chunks(std::size_t rows) const {
  return {rows, (geometry_.patch() * geometry_.positions() + scratch_per_image()) * sizeof(T)};
}

template <class T>
void ConvCore<T>::plan(std::size_t rows) {
  if (rows <= planned_) return;
  const PatchGeometry& g = geometry_;
  cols_.reserve(rows * g.patch() * g.positions());
  weight_sums_.reserve(Chunks::most(rows, chunks(rows).bytes_per_image) * out_ * g.patch());
  plane_sums_.reserve(rows * out_);
  planned_ = rows;
}

template <class T>
void ConvCore<T>::forward(const T* params, MatrixView<const T> x, MatrixView<T> y, const T* skip) {
  plan(x.rows);  // a no-op once planned
  const PatchGeometry& g = geometry_;
  const std::size_t positions = g.positions(), k = g.patch();
  const T* bias = params + bias_;
  for_chunks(chunks(x.rows), [&](std::size_t first, std::size_t images, std::size_t) {
    const std::size_t ld = images * positions;
    T* product = chunk_scratch<T>(images * scratch_per_image());
    T* cols = cols_.data() + first * k * positions;
    im2col(g, images, x.row(first), cols, product + out_ * ld);
    // product [out, images * positions] = W [out, C k k] cols.
    gemm_untiled<T>(Trans::no, Trans::no, out_, ld, k, T(1), params + weight_, k, cols, ld, T(0), product, ld);
    // y[n, o] = act(product[o, n's positions] + b[o] (+ skip[n, o])): the transposition to NCHW is a copy
    // of contiguous planes, fused with the bias and the activation.
    for (std::size_t u = 0; u < images * out_; ++u) {
      const std::size_t n = u / out_, o = u % out_, plane = first * out_ + u;
      bias_activation_span<T>(product + o * ld + n * positions, bias[o], skip ? skip + plane * positions : nullptr,
                              y.data + plane * positions, positions, act_, slope_);
    }
  });
}

template <class T>
void ConvCore<T>::backward(const T* params, T* grads, MatrixView<const T> y, MatrixView<T> dy, MatrixView<T> dx,
                           GradMode mode, bool keep_dy_grad) {
  const PatchGeometry& g = geometry_;
  const std::size_t positions = g.positions(), k = g.patch();
  const Chunks chunks = this->chunks(dy.rows);
  T* sums = plane_sums_.data();
  for_chunks(chunks, [&](std::size_t first, std::size_t images, std::size_t chunk) {
    const std::size_t ld = images * positions;
    T* product = chunk_scratch<T>(images * scratch_per_image());
    T* phases = product + out_ * ld;
    T* cols = cols_.data() + first * k * positions;
    // dL/d(pre-activation) into product's [out, images * positions] layout
    // (and back into dy for a residual block), each plane's sum for the bias.
    for (std::size_t u = 0; u < images * out_; ++u) {
      const std::size_t n = u / out_, o = u % out_, plane = first * out_ + u;
      T* d = product + o * ld + n * positions;
      sums[plane] = activation_backward_span<T>(dy.data + plane * positions, y.data + plane * positions, d,
                                                positions, act_, slope_);
      if (keep_dy_grad) std::memcpy(dy.data + plane * positions, d, positions * sizeof(T));
    }
    // This chunk's dW = product cols^T (the columns kept from forward: making
    // them again in cache measured slower than reading them back).
    if (mode != GradMode::none)
      gemm_untiled<T>(Trans::no, Trans::yes, out_, k, ld, T(1), product, ld, cols, ld, T(0),
                      weight_sums_.data() + chunk * out_ * k, k);
    if (dx.data == nullptr) return;
    // dcols = W^T product, summed back into images.
    T* dcols = phases + g.channels * g.phases_size() * images;
    gemm_untiled<T>(Trans::yes, Trans::no, k, ld, out_, T(1), params + weight_, k, product, ld, T(0), dcols, ld);
    col2im<T>(g, images, dcols, dx.row(first), phases, nullptr, Act::identity, T(0));
  });
  bias_gradient(sums, dy.rows, out_, grads + bias_, mode);
  weight_gradient(weight_sums_.data(), chunks.count, out_ * k, grads + weight_, mode);
}

template void im2col<float>(const PatchGeometry&, std::size_t, const float*, float*, float*);
template void im2col<double>(const PatchGeometry&, std::size_t, const double*, double*, double*);
template void col2im<float>(const PatchGeometry&, std::size_t, const float*, float*, float*, const float*, Act,
                            float);
template void col2im<double>(const PatchGeometry&, std::size_t, const double*, double*, double*, const double*, Act,
                             double);
template class ConvCore<float>;
template class ConvCore<double>;

}  // namespace detail

// ---- Conv2d.

template <class T>
Conv2d<T>::Conv2d(ParamLayout& layout, const std::string& name, Shape in, const LayerSpec& spec, Act act,
                  float slope)
    : Layer<T>(in, output_shape(in, spec)),
      core_(layout, name, in, spec.out, spec.kernel, spec.stride, spec.padding, act, slope) {}

template <class T>
Shape Conv2d<T>::output_shape(Shape in, const LayerSpec& spec) {
  return conv_output_shape(in, spec);
}

template <class T>
void Conv2d<T>::forward(const T* params, MatrixView<const T> x, MatrixView<T> y) {
  core_.forward(params, x, y, nullptr);
}

template <class T>
void Conv2d<T>::backward(const T* params, T* grads, MatrixView<const T> /*x: its columns are kept*/,
                         MatrixView<const T> y, MatrixView<T> dy, MatrixView<T> dx, GradMode mode) {
  core_.backward(params, grads, y, dy, dx, mode, false);
}

// ---- ConvTranspose2d: the adjoint of a convolution from the output's space
// to the input's, with the same weight viewed as [in, out k k].

template <class T>
ConvTranspose2d<T>::ConvTranspose2d(ParamLayout& layout, const std::string& name, Shape in, const LayerSpec& spec,
                                    Act act, float slope)
    : Layer<T>(in, output_shape(in, spec)), in_channels_(in.channels), act_(act), slope_(static_cast<T>(slope)) {
  const Shape out = this->out_shape();
  // A convolution of the output with this window has in.height x in.width
  // positions: ((in - 1) s + output_padding) / s + 1 = in, as output_padding < s.
  geometry_ = {out.channels, out.height, out.width, spec.kernel, spec.stride, spec.padding, in.height, in.width};
  weight_ = layout.add(name + ".weight", {in.channels, spec.out, spec.kernel, spec.kernel});
  bias_ = layout.add(name + ".bias", {spec.out});
}

template <class T>
Shape ConvTranspose2d<T>::output_shape(Shape in, const LayerSpec& spec) {
  return deconv_output_shape(in, spec);
}

// What a chunk goes through per image, all in its thread's scratch: its input
// as columns (later dx's), its columns and its output planes' phases.
template <class T>
std::size_t ConvTranspose2d<T>::scratch_per_image() const {
  const detail::PatchGeometry& g = geometry_;
  return (in_channels_ + g.patch()) * g.positions() + g.channels * g.phases_size();
}

template <class T>
detail::Chunks ConvTranspose2d<T>::chunks(std::size_t rows) const {
  return {rows, scratch_per_image() * sizeof(T)};
}

template <class T>
void ConvTranspose2d<T>::plan(std::size_t rows) {
  if (rows <= planned_) return;
  weight_sums_.reserve(detail::Chunks::most(rows, chunks(rows).bytes_per_image) * in_channels_ *
                       geometry_.patch());
  plane_sums_.reserve(rows * geometry_.channels);
  planned_ = rows;
}

template <class T>
void ConvTranspose2d<T>::forward(const T* params, MatrixView<const T> x, MatrixView<T> y) {
  plan(x.rows);  // a no-op once planned
  const detail::PatchGeometry& g = geometry_;
  const std::size_t positions = g.positions(), k = g.patch();
  for_chunks(chunks(x.rows), [&](std::size_t first, std::size_t images, std::size_t) {
    const std::size_t ld = images * positions;
    T* x_cols = chunk_scratch<T>(images * scratch_per_image());
    T* cols = x_cols + in_channels_ * ld;
    transpose_planes(x.row(first), x_cols, images, in_channels_, positions, false);
    // cols [out k k, images * H * W] = W^T x_cols, then summed into y with the bias and activation.
    gemm_untiled<T>(Trans::yes, Trans::no, k, ld, in_channels_, T(1), params + weight_, k, x_cols, ld, T(0), cols, ld);
    col2im<T>(g, images, cols, y.row(first), cols + k * ld, params + bias_, act_, slope_);
  });
}

template <class T>
void ConvTranspose2d<T>::backward(const T* params, T* grads, MatrixView<const T> x, MatrixView<const T> y,
                                  MatrixView<T> dy, MatrixView<T> dx, GradMode mode) {
  const detail::PatchGeometry& g = geometry_;
  const std::size_t positions = g.positions(), k = g.patch(), channels = g.channels, plane = g.plane();
  const detail::Chunks chunks = this->chunks(dy.rows);
  T* sums = plane_sums_.data();
  for_chunks(chunks, [&](std::size_t first, std::size_t images, std::size_t chunk) {
    const std::size_t ld = images * positions;
    T* x_cols = chunk_scratch<T>(images * scratch_per_image());
    T* cols = x_cols + in_channels_ * ld;
    // dL/d(pre-activation) in place, each plane's sum for the bias.
    for (std::size_t u = first * channels; u < (first + images) * channels; ++u) {
      T* d = dy.data + u * plane;
      sums[u] = activation_backward_span<T>(d, y.data + u * plane, d, plane, act_, slope_);
    }
    im2col(g, images, dy.row(first), cols, cols + k * ld);
    // This chunk's dW [in, out k k] = x_cols cols^T, x_cols made again from x
    // (one copy of the input, in cache, rather than a batch's kept in memory).
    if (mode != GradMode::none) {
      transpose_planes(x.row(first), x_cols, images, in_channels_, positions, false);
      gemm_untiled<T>(Trans::no, Trans::yes, in_channels_, k, ld, T(1), x_cols, ld, cols, ld, T(0),
                      weight_sums_.data() + chunk * in_channels_ * k, k);
    }
    if (dx.data == nullptr) return;
    // dx's columns = W cols (over x_cols, no longer needed).
    gemm_untiled<T>(Trans::no, Trans::no, in_channels_, ld, k, T(1), params + weight_, k, cols, ld, T(0), x_cols, ld);
    transpose_planes(x_cols, dx.row(first), images, in_channels_, positions, true);
  });
  bias_gradient(sums, dy.rows, channels, grads + bias_, mode);
  weight_gradient(weight_sums_.data(), chunks.count, in_channels_ * k, grads + weight_, mode);
}

// ---- Residual.

template <class T>
Residual<T>::Residual(ParamLayout& layout, const std::string& name, Shape in, const LayerSpec& spec, Act act,
                      float slope)
    : Layer<T>(in, output_shape(in, spec)),
      conv1_(layout, name + ".conv1", in, spec.out, 3, 1, 1, act, slope),
      conv2_(layout, name + ".conv2", conv1_.out_shape(), in.channels, 1, 1, 0, act, slope) {}

template <class T>
Shape Residual<T>::output_shape(Shape in, const LayerSpec& spec) {
  return residual_output_shape(in, spec);
}

template <class T>
void Residual<T>::plan(std::size_t rows) {
  conv1_.plan(rows);
  conv2_.plan(rows);
  if (rows <= planned_) return;
  hidden_.reserve(rows * conv1_.out_shape().size());
  hidden_grad_.reserve(rows * conv1_.out_shape().size());
  planned_ = rows;
}

template <class T>
void Residual<T>::forward(const T* params, MatrixView<const T> x, MatrixView<T> y) {
  plan(x.rows);  // a no-op once planned
  const MatrixView<T> h{hidden_.data(), x.rows, conv1_.out_shape().size()};
  conv1_.forward(params, x, h, nullptr);
  conv2_.forward(params, h, y, x.data);  // act(conv2(h) + b + x)
}

template <class T>
void Residual<T>::backward(const T* params, T* grads, MatrixView<const T> /*x*/, MatrixView<const T> y,
                           MatrixView<T> dy, MatrixView<T> dx, GradMode mode) {
  const MatrixView<T> h{hidden_.data(), dy.rows, conv1_.out_shape().size()};
  const MatrixView<T> dh{hidden_grad_.data(), dy.rows, h.cols};
  // conv2 leaves dL/d(x + conv2(h)) in dy: the skip's share of dx.
  conv2_.backward(params, grads, y, dy, dh, mode, true);
  conv1_.backward(params, grads, h, dh, dx, mode, false);
  if (dx.data == nullptr) return;
  T* out = dx.data;
  const T* skip = dy.data;
  for_planes(dx.rows, dx.size(), [&](std::size_t r) {
    for (std::size_t i = r * dx.cols; i < (r + 1) * dx.cols; ++i) out[i] += skip[i];
  });
}

template class Conv2d<float>;
template class Conv2d<double>;
template class ConvTranspose2d<float>;
template class ConvTranspose2d<double>;
template class Residual<float>;
template class Residual<double>;

// ---- Reference: the definitions as direct loops.

namespace reference {
namespace {

// The gradient buffers' starting values for `mode` (untouched unless overwrite).
template <class T>
void start_gradient(T* g, std::size_t n, GradMode mode) {
  if (mode == GradMode::overwrite) std::fill_n(g, n, T(0));
}

// act applied in place to y, which holds the pre-activations.
template <class T>
void activate(MatrixView<T> y, Act act, T slope) {
  const std::vector<T> zeros(y.cols, T(0));
  aevb::reference::bias_activation_forward<T>(y, zeros.data(), act, slope);
}

}  // namespace

template <class T>
Conv2d<T>::Conv2d(ParamLayout& layout, const std::string& name, Shape in, const LayerSpec& spec, Act act,
                  float slope)
    : Layer<T>(in, aevb::Conv2d<T>::output_shape(in, spec)), spec_(spec), act_(act), slope_(static_cast<T>(slope)) {
  weight_ = layout.add(name + ".weight", {spec.out, in.channels, spec.kernel, spec.kernel});
  bias_ = layout.add(name + ".bias", {spec.out});
}

// y[n, o, i, j] = act(b[o] + sum_{c, p, q} W[o, c, p, q] x[n, c, i s - pad + p, j s - pad + q]).
template <class T>
void Conv2d<T>::forward(const T* params, MatrixView<const T> x, MatrixView<T> y) {
  const Shape in = this->in_shape(), out = this->out_shape();
  const auto k = static_cast<std::int64_t>(spec_.kernel), s = static_cast<std::int64_t>(spec_.stride),
             pad = static_cast<std::int64_t>(spec_.padding);
  const auto H = static_cast<std::int64_t>(in.height), W = static_cast<std::int64_t>(in.width);
  const T* w = params + weight_;
  for (std::size_t n = 0; n < x.rows; ++n)
    for (std::size_t o = 0; o < out.channels; ++o)
      for (std::size_t i = 0; i < out.height; ++i)
        for (std::size_t j = 0; j < out.width; ++j) {
          T sum = params[bias_ + o];
          for (std::size_t c = 0; c < in.channels; ++c)
            for (std::int64_t p = 0; p < k; ++p)
              for (std::int64_t q = 0; q < k; ++q) {
                const std::int64_t r = std::int64_t(i) * s - pad + p, t = std::int64_t(j) * s - pad + q;
                if (r < 0 || r >= H || t < 0 || t >= W) continue;
                sum += w[((o * in.channels + c) * spec_.kernel + p) * spec_.kernel + q] *
                       x.row(n)[(c * in.height + r) * in.width + t];
              }
          y.row(n)[(o * out.height + i) * out.width + j] = sum;
        }
  activate(y, act_, slope_);
}

template <class T>
void Conv2d<T>::backward(const T* params, T* grads, MatrixView<const T> x, MatrixView<const T> y, MatrixView<T> dy,
                         MatrixView<T> dx, GradMode mode) {
  const Shape in = this->in_shape(), out = this->out_shape();
  const auto k = static_cast<std::int64_t>(spec_.kernel), s = static_cast<std::int64_t>(spec_.stride),
             pad = static_cast<std::int64_t>(spec_.padding);
  const auto H = static_cast<std::int64_t>(in.height), W = static_cast<std::int64_t>(in.width);
  aevb::reference::activation_backward<T>(dy, y, act_, slope_);
  start_gradient(grads + weight_, out.channels * in.channels * spec_.kernel * spec_.kernel, mode);
  start_gradient(grads + bias_, out.channels, mode);
  if (dx.data) std::fill_n(dx.data, dx.size(), T(0));
  const bool parameters = mode != GradMode::none;
  const T* w = params + weight_;
  T* dw = grads + weight_;
  for (std::size_t n = 0; n < dy.rows; ++n)
    for (std::size_t o = 0; o < out.channels; ++o)
      for (std::size_t i = 0; i < out.height; ++i)
        for (std::size_t j = 0; j < out.width; ++j) {
          const T g = dy.row(n)[(o * out.height + i) * out.width + j];
          if (parameters) grads[bias_ + o] += g;
          for (std::size_t c = 0; c < in.channels; ++c)
            for (std::int64_t p = 0; p < k; ++p)
              for (std::int64_t q = 0; q < k; ++q) {
                const std::int64_t r = std::int64_t(i) * s - pad + p, t = std::int64_t(j) * s - pad + q;
                if (r < 0 || r >= H || t < 0 || t >= W) continue;
                const std::size_t wi = ((o * in.channels + c) * spec_.kernel + p) * spec_.kernel + q;
                const std::size_t xi = (c * in.height + r) * in.width + t;
                if (parameters) dw[wi] += g * x.row(n)[xi];
                if (dx.data) dx.row(n)[xi] += g * w[wi];
              }
        }
}

template <class T>
ConvTranspose2d<T>::ConvTranspose2d(ParamLayout& layout, const std::string& name, Shape in, const LayerSpec& spec,
                                    Act act, float slope)
    : Layer<T>(in, aevb::ConvTranspose2d<T>::output_shape(in, spec)),
      spec_(spec),
      act_(act),
      slope_(static_cast<T>(slope)) {
  weight_ = layout.add(name + ".weight", {in.channels, spec.out, spec.kernel, spec.kernel});
  bias_ = layout.add(name + ".bias", {spec.out});
}

// Every input value x[n, c, i, j] adds W[c, o, p, q] x[n, c, i, j] to
// y[n, o, i s - pad + p, j s - pad + q] where that lies in the output
// (PyTorch's definition: the gradient of a convolution with respect to its input).
template <class T>
void ConvTranspose2d<T>::forward(const T* params, MatrixView<const T> x, MatrixView<T> y) {
  const Shape in = this->in_shape(), out = this->out_shape();
  const auto k = static_cast<std::int64_t>(spec_.kernel), s = static_cast<std::int64_t>(spec_.stride),
             pad = static_cast<std::int64_t>(spec_.padding);
  const auto H = static_cast<std::int64_t>(out.height), W = static_cast<std::int64_t>(out.width);
  const T* w = params + weight_;
  for (std::size_t n = 0; n < x.rows; ++n) {
    T* yn = y.row(n);
    for (std::size_t o = 0; o < out.channels; ++o)
      std::fill_n(yn + o * out.height * out.width, out.height * out.width, params[bias_ + o]);
    for (std::size_t c = 0; c < in.channels; ++c)
      for (std::size_t i = 0; i < in.height; ++i)
        for (std::size_t j = 0; j < in.width; ++j) {
          const T v = x.row(n)[(c * in.height + i) * in.width + j];
          for (std::size_t o = 0; o < out.channels; ++o)
            for (std::int64_t p = 0; p < k; ++p)
              for (std::int64_t q = 0; q < k; ++q) {
                const std::int64_t r = std::int64_t(i) * s - pad + p, t = std::int64_t(j) * s - pad + q;
                if (r < 0 || r >= H || t < 0 || t >= W) continue;
                yn[(o * out.height + r) * out.width + t] +=
                    w[((c * out.channels + o) * spec_.kernel + p) * spec_.kernel + q] * v;
              }
        }
  }
  activate(y, act_, slope_);
}

template <class T>
void ConvTranspose2d<T>::backward(const T* params, T* grads, MatrixView<const T> x, MatrixView<const T> y,
                                  MatrixView<T> dy, MatrixView<T> dx, GradMode mode) {
  const Shape in = this->in_shape(), out = this->out_shape();
  const auto k = static_cast<std::int64_t>(spec_.kernel), s = static_cast<std::int64_t>(spec_.stride),
             pad = static_cast<std::int64_t>(spec_.padding);
  const auto H = static_cast<std::int64_t>(out.height), W = static_cast<std::int64_t>(out.width);
  aevb::reference::activation_backward<T>(dy, y, act_, slope_);
  start_gradient(grads + weight_, in.channels * out.channels * spec_.kernel * spec_.kernel, mode);
  start_gradient(grads + bias_, out.channels, mode);
  const bool parameters = mode != GradMode::none;
  const T* w = params + weight_;
  T* dw = grads + weight_;
  for (std::size_t n = 0; n < dy.rows; ++n) {
    const T* g = dy.row(n);
    for (std::size_t o = 0; o < out.channels && parameters; ++o)
      for (std::size_t i = 0; i < out.height * out.width; ++i) grads[bias_ + o] += g[o * out.height * out.width + i];
    for (std::size_t c = 0; c < in.channels; ++c)
      for (std::size_t i = 0; i < in.height; ++i)
        for (std::size_t j = 0; j < in.width; ++j) {
          const std::size_t xi = (c * in.height + i) * in.width + j;
          T sum = 0;
          for (std::size_t o = 0; o < out.channels; ++o)
            for (std::int64_t p = 0; p < k; ++p)
              for (std::int64_t q = 0; q < k; ++q) {
                const std::int64_t r = std::int64_t(i) * s - pad + p, t = std::int64_t(j) * s - pad + q;
                if (r < 0 || r >= H || t < 0 || t >= W) continue;
                const std::size_t wi = ((c * out.channels + o) * spec_.kernel + p) * spec_.kernel + q;
                const T gy = g[(o * out.height + r) * out.width + t];
                if (parameters) dw[wi] += x.row(n)[xi] * gy;
                sum += w[wi] * gy;
              }
          if (dx.data) dx.row(n)[xi] = sum;
        }
  }
}

template <class T>
Residual<T>::Residual(ParamLayout& layout, const std::string& name, Shape in, const LayerSpec& spec, Act act,
                      float slope)
    : Layer<T>(in, aevb::Residual<T>::output_shape(in, spec)),
      conv1_(layout, name + ".conv1", in, conv_spec(spec.out, 3, 1, 1), act, slope),
      conv2_(layout, name + ".conv2", conv1_.out_shape(), conv_spec(in.channels, 1, 1, 0), Act::identity, 0),
      act_(act),
      slope_(static_cast<T>(slope)) {}

template <class T>
void Residual<T>::forward(const T* params, MatrixView<const T> x, MatrixView<T> y) {
  hidden_.resize(x.rows * conv1_.out_shape().size());
  inner_.resize(y.size());
  conv1_.forward(params, x, {hidden_.data(), x.rows, conv1_.out_shape().size()});
  conv2_.forward(params, {hidden_.data(), x.rows, conv1_.out_shape().size()}, {inner_.data(), y.rows, y.cols});
  for (std::size_t i = 0; i < y.size(); ++i) y.data[i] = inner_[i] + x.data[i];
  activate(y, act_, slope_);
}

template <class T>
void Residual<T>::backward(const T* params, T* grads, MatrixView<const T> x, MatrixView<const T> y, MatrixView<T> dy,
                           MatrixView<T> dx, GradMode mode) {
  const MatrixView<T> h{hidden_.data(), x.rows, conv1_.out_shape().size()};
  aevb::reference::activation_backward<T>(dy, y, act_, slope_);  // dL/d(x + conv2(h))
  std::vector<T> d_inner(dy.data, dy.data + dy.size()), dh(h.size());
  conv2_.backward(params, grads, h, {inner_.data(), y.rows, y.cols}, {d_inner.data(), dy.rows, dy.cols},
                  {dh.data(), h.rows, h.cols}, mode);
  conv1_.backward(params, grads, x, h, {dh.data(), h.rows, h.cols}, dx, mode);
  if (dx.data)
    for (std::size_t i = 0; i < dx.size(); ++i) dx.data[i] += dy.data[i];
}

template class Conv2d<float>;
template class Conv2d<double>;
template class ConvTranspose2d<float>;
template class ConvTranspose2d<double>;
template class Residual<float>;
template class Residual<double>;

}  // namespace reference

}  // namespace aevb
