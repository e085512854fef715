#include "prior/gated_pixelcnn.hpp"

#include "backend/gemm.hpp"
#include "core/rng.hpp"
#include "prior/kernels.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace aevb::pixelcnn {

using backend::gemm;
using backend::Trans;

Taps vertical_taps(std::size_t layer) { return {layer == 0 ? 1u : 2u, 3, -1, -1}; }
Taps horizontal_taps(std::size_t layer) { return {1, layer == 0 ? 1u : 2u, 0, -1}; }

Offsets register_parameters(const CodePriorConfig& config, ParamLayout& layout) {
  validate(config);
  const std::size_t K = config.codes, C = config.channels;
  Offsets at;
  at.embedding = layout.add("prior.embedding", {K, C});
  for (std::size_t l = 0; l < config.layers; ++l) {
    const std::string name = "prior.layers." + std::to_string(l);
    const Taps v = vertical_taps(l), h = horizontal_taps(l);
    LayerOffsets o{};
    o.vertical_w = layout.add(name + ".vertical.weight", {2 * C, C, v.kh, v.kw});
    o.vertical_b = layout.add(name + ".vertical.bias", {2 * C});
    o.horizontal_w = layout.add(name + ".horizontal.weight", {2 * C, C, h.kh, h.kw});
    o.horizontal_b = layout.add(name + ".horizontal.bias", {2 * C});
    o.link_w = layout.add(name + ".link.weight", {2 * C, 2 * C, 1, 1});
    o.residual_w = layout.add(name + ".residual.weight", {C, C, 1, 1});
    o.residual_b = layout.add(name + ".residual.bias", {C});
    at.layers.push_back(o);
  }
  at.hidden_w = layout.add("prior.head.hidden.weight", {C, C, 1, 1});
  at.hidden_b = layout.add("prior.head.hidden.bias", {C});
  at.logits_w = layout.add("prior.head.logits.weight", {K, C, 1, 1});
  at.logits_b = layout.add("prior.head.logits.bias", {K});
  return at;
}

template <class T>
GatedPixelCnn<T>::GatedPixelCnn(const CodePriorConfig& config)
    : config_(config),
      grid_{config.height, config.width},
      at_(register_parameters(config, layout_)),
      state_(config.layers) {}

template <class T>
void GatedPixelCnn<T>::initialize(T* params, std::uint64_t seed) const {
  fill_normal(params, layout_.total(), seed, rng_stream(RngPurpose::code_prior_init, 0));
  for (const ParameterInfo& p : layout_.table()) {
    T scale = 1;  // the embedding: N(0, 1)
    if (p.shape.size() == 1) {
      scale = 0;  // biases
    } else if (p.shape.size() == 4) {
      const double fan_in = double(p.shape[1] * p.shape[2] * p.shape[3]);
      scale = T(std::sqrt((p.offset == at_.logits_w ? 2.0 : 1.0) / fan_in));
    }
    std::for_each(params + p.offset, params + p.offset + p.size(), [scale](T& x) { x *= scale; });
  }
}

template <class T>
void GatedPixelCnn<T>::plan(std::size_t grids) {
  if (grids <= planned_) return;
  const std::size_t n = grids * grid_.positions(), C = config_.channels, K = config_.codes;
  for (std::size_t l = 0; l < config_.layers; ++l) {
    LayerState& s = state_[l];
    s.av.reserve(2 * C * n);
    if (l + 1 < config_.layers) {
      s.vgate.reserve(2 * C * n);
      s.v.reserve(C * n);
    }
    s.hgate.reserve(2 * C * n);
    s.g.reserve(C * n);
    s.h.reserve(C * n);
  }
  const std::size_t widest = (config_.layers > 1 ? vertical_taps(1) : vertical_taps(0)).count();
  codes_.reserve(n);
  nll_.reserve(n);
  for (detail::Scratch<T>* b : {&e_, &hidden_, &dhidden_, &dh_, &dg_, &dv_, &de_}) b->reserve(C * n);
  dav_.reserve(2 * C * n);
  cols_.reserve(widest * C * n);
  logits_.reserve(n * K);
  probs_.reserve(n * K);
  planned_ = grids;
}

template <class T>
void GatedPixelCnn<T>::forward(const T* params, std::span<const std::uint32_t> codes, std::size_t grids) {
  const std::size_t n = grids * grid_.positions(), C = config_.channels, K = config_.codes, L = config_.layers;
  if (grids == 0 || codes.size() < n)
    throw std::invalid_argument("GatedPixelCnn::forward: " + std::to_string(codes.size()) + " codes for " +
                                std::to_string(grids) + " grids of " + std::to_string(grid_.positions()));
  plan(grids);
  columns_ = n;
  std::copy_n(codes.data(), n, codes_.data());
  embed(C, n, codes_.data(), params + at_.embedding, e_.data());
  const T *v_in = e_.data(), *h_in = e_.data();
  for (std::size_t l = 0; l < L; ++l) {
    const LayerOffsets& w = at_.layers[l];
    LayerState& s = state_[l];
    // a_v = V * v_{l-1} + b_v, and the vertical stack's output v_l.
    const Taps tv = vertical_taps(l);
    const std::size_t kv = C * tv.count();
    gather_taps(grid_, tv, C, grids, v_in, cols_.data());
    fill_bias(2 * C, n, params + w.vertical_b, static_cast<const T*>(nullptr), s.av.data());
    gemm<T>(Trans::no, Trans::no, 2 * C, n, kv, T(1), params + w.vertical_w, kv, cols_.data(), n, T(1), s.av.data(),
            n);
    if (l + 1 < L) gate_forward(C, n, s.av.data(), s.vgate.data(), s.v.data());
    // a_h = H * h_{l-1} + b_h + link a_v, gated into g_l (the gate's values kept over a_h).
    const Taps th = horizontal_taps(l);
    const std::size_t kh = C * th.count();
    gather_taps(grid_, th, C, grids, h_in, cols_.data());
    fill_bias(2 * C, n, params + w.horizontal_b, static_cast<const T*>(nullptr), s.hgate.data());
    gemm<T>(Trans::no, Trans::no, 2 * C, n, kh, T(1), params + w.horizontal_w, kh, cols_.data(), n, T(1),
            s.hgate.data(), n);
    gemm<T>(Trans::no, Trans::no, 2 * C, n, 2 * C, T(1), params + w.link_w, 2 * C, s.av.data(), n, T(1),
            s.hgate.data(), n);
    gate_forward(C, n, s.hgate.data(), s.hgate.data(), s.g.data());
    // h_l = h_{l-1} + R g_l + b_r; layer 0 has no skip (h_{-1} = e holds the codes themselves).
    fill_bias(C, n, params + w.residual_b, l > 0 ? h_in : nullptr, s.h.data());
    gemm<T>(Trans::no, Trans::no, C, n, C, T(1), params + w.residual_w, C, s.g.data(), n, T(1), s.h.data(), n);
    v_in = s.v.data();
    h_in = s.h.data();
  }
  // The head: hidden = relu(W_1 h + b_1) [C, n]; logits^T [n, K] = hidden^T W_2^T + b_2.
  fill_bias(C, n, params + at_.hidden_b, static_cast<const T*>(nullptr), hidden_.data());
  gemm<T>(Trans::no, Trans::no, C, n, C, T(1), params + at_.hidden_w, C, h_in, n, T(1), hidden_.data(), n);
  relu(hidden_.data(), C * n);
  broadcast_rows(n, K, params + at_.logits_b, logits_.data());
  gemm<T>(Trans::yes, Trans::yes, n, K, C, T(1), hidden_.data(), n, params + at_.logits_w, C, T(1), logits_.data(),
          K);
  softmax_nll(n, K, logits_.data(), codes_.data(), probs_.data(), nll_.data());
}

template <class T>
double GatedPixelCnn<T>::backward(const T* params, T* grads) {
  const std::size_t n = columns_, grids = n / grid_.positions(), C = config_.channels, K = config_.codes,
                    L = config_.layers;
  double loss = 0;
  for (std::size_t i = 0; i < n; ++i) loss += nll_.data()[i];
  loss /= double(n);

  // The head. dL/dlogits = (softmax - onehot) / n, in place of the softmax.
  softmax_backward(n, K, codes_.data(), T(1) / T(n), probs_.data());
  const T* dlogits = probs_.data();
  column_sums(n, K, dlogits, grads + at_.logits_b);
  gemm<T>(Trans::yes, Trans::yes, K, C, n, T(1), dlogits, K, hidden_.data(), n, T(0), grads + at_.logits_w, C);
  gemm<T>(Trans::yes, Trans::yes, C, n, K, T(1), params + at_.logits_w, C, dlogits, K, T(0), dhidden_.data(), n);
  relu_backward(hidden_.data(), dhidden_.data(), C * n);
  row_sums(C, n, dhidden_.data(), grads + at_.hidden_b);
  const T* h_last = state_[L - 1].h.data();
  gemm<T>(Trans::no, Trans::yes, C, C, n, T(1), dhidden_.data(), n, h_last, n, T(0), grads + at_.hidden_w, C);
  gemm<T>(Trans::yes, Trans::no, C, n, C, T(1), params + at_.hidden_w, C, dhidden_.data(), n, T(0), dh_.data(), n);

  // The layers, last first. On entry to layer l, dh = dL/dh_l and (below the
  // last layer) dv = dL/dv_l; each leaves dL/dh_{l-1} and dL/dv_{l-1} in
  // the same buffers, or, in layer 0, the sum of both in de = dL/de.
  for (std::size_t l = L; l-- > 0;) {
    const LayerOffsets& w = at_.layers[l];
    LayerState& s = state_[l];
    const T* v_in = l > 0 ? state_[l - 1].v.data() : e_.data();
    const T* h_in = l > 0 ? state_[l - 1].h.data() : e_.data();
    // The residual 1x1: h_l = h_{l-1} + R g + b_r.
    gemm<T>(Trans::no, Trans::yes, C, C, n, T(1), dh_.data(), n, s.g.data(), n, T(0), grads + w.residual_w, C);
    row_sums(C, n, dh_.data(), grads + w.residual_b);
    gemm<T>(Trans::yes, Trans::no, C, n, C, T(1), params + w.residual_w, C, dh_.data(), n, T(0), dg_.data(), n);
    // The horizontal gate, then its convolution: dL/da_h in place of the gate's values.
    gate_backward(C, n, s.hgate.data(), dg_.data(), s.hgate.data(), false);
    const T* dah = s.hgate.data();
    row_sums(2 * C, n, dah, grads + w.horizontal_b);
    const Taps th = horizontal_taps(l);
    const std::size_t kh = C * th.count();
    gather_taps(grid_, th, C, grids, h_in, cols_.data());
    gemm<T>(Trans::no, Trans::yes, 2 * C, kh, n, T(1), dah, n, cols_.data(), n, T(0), grads + w.horizontal_w, kh);
    gemm<T>(Trans::yes, Trans::no, kh, n, 2 * C, T(1), params + w.horizontal_w, kh, dah, n, T(0), cols_.data(), n);
    if (l > 0) {
      scatter_taps(grid_, th, C, grids, cols_.data(), dh_.data(), true);  // + the skip's dh_l: dL/dh_{l-1}
    } else {
      scatter_taps(grid_, th, C, grids, cols_.data(), de_.data(), false);
    }
    // The link, then the vertical gate (from dv_l) and convolution.
    gemm<T>(Trans::no, Trans::yes, 2 * C, 2 * C, n, T(1), dah, n, s.av.data(), n, T(0), grads + w.link_w, 2 * C);
    gemm<T>(Trans::yes, Trans::no, 2 * C, n, 2 * C, T(1), params + w.link_w, 2 * C, dah, n, T(0), dav_.data(), n);
    if (l + 1 < L) gate_backward(C, n, s.vgate.data(), dv_.data(), dav_.data(), true);
    row_sums(2 * C, n, dav_.data(), grads + w.vertical_b);
    const Taps tv = vertical_taps(l);
    const std::size_t kv = C * tv.count();
    gather_taps(grid_, tv, C, grids, v_in, cols_.data());
    gemm<T>(Trans::no, Trans::yes, 2 * C, kv, n, T(1), dav_.data(), n, cols_.data(), n, T(0), grads + w.vertical_w,
            kv);
    gemm<T>(Trans::yes, Trans::no, kv, n, 2 * C, T(1), params + w.vertical_w, kv, dav_.data(), n, T(0),
            cols_.data(), n);
    scatter_taps(grid_, tv, C, grids, cols_.data(), l > 0 ? dv_.data() : de_.data(), l == 0);
  }
  embed_backward(K, C, n, codes_.data(), de_.data(), grads + at_.embedding);
  return loss;
}

template class GatedPixelCnn<float>;
template class GatedPixelCnn<double>;

}  // namespace aevb::pixelcnn
