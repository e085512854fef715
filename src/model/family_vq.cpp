// VQ-VAE (van den Oord, Vinyals & Kavukcuoglu 2017, "Neural Discrete
// Representation Learning"; ../shared/reference/model-families.md sec. 2).
// The encoder's head writes z_e, a grid of P positions of D values stored
// channel-major ([D, P], a conv's NCHW output flattened); each position is
// replaced by its nearest codebook vector e_k (eq. 1-2), and the decoder
// reads that grid z_q. The posterior is one-hot and the prior uniform over
// the K codes, so log q(z|x) = 0, log p(z) = -P log K and the KL is the
// constant P log K (sec. 3.1): the bound is log p(x|z_q) - P log K.
//
// Training adds the paper's two codebook terms per datapoint (eq. 3),
//   ||sg[z_e] - e||^2 (the codebook term) + beta ||z_e - sg[e]||^2 (commitment),
// summed over positions and values, with weight 1/M in the minibatch's mean
// loss: they enter the gradient here, in backward(), not the reported bound.
// The decoder's gradient passes to z_e unchanged (the straight-through
// estimator, sec. 3.2). The codebook learns by the gradient of its term, or
// by exponential moving averages (App. A.1): with n_k the assignments to code
// k in a minibatch and s_k the sum of their z_e,
//   N_k <- g N_k + (1 - g) n_k,  m_k <- g m_k + (1 - g) s_k,  e_k = m_k / N~_k,
// N~_k = (N_k + eps) n / (n + K eps), n = sum_k N_k (Laplace smoothing, as
// Sonnet's VectorQuantizerEMA). Restarts (SoundStream, Zeghidour et al.
// 2021; Jukebox's random restarts, Dhariwal et al. 2020): a code whose moving
// average of assignments per minibatch N_k falls below 1 moves to an encoder
// output of the current minibatch, drawn at random.
#include "model/families.hpp"

#include "backend/gemm.hpp"
#include "core/param_layout.hpp"
#include "core/rng.hpp"
#include "core/thread_pool.hpp"
#include "nn/conv.hpp"
#include "nn/dense.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

namespace aevb {
namespace {

constexpr double kLaplaceEps = 1e-5;   // Sonnet's VectorQuantizerEMA epsilon
constexpr double kDeadBelow = 1.0;     // assignments per minibatch (docs/vq-vae.md: why 1)
constexpr std::size_t kSearchBlock = 1024;  // z_e vectors per distance product: bounded scratch at any batch

template <class T>
class CodebookLatent final : public LatentSpace<T> {
 public:
  explicit CodebookLatent(const ModelConfig& c)
      : nz_(c.latent),
        d_(c.codebook.dim),
        k_(c.codebook.codes),
        p_(nz_ / d_),
        book_(c.codebook),
        log_k_(std::log(double(k_))) {}

  std::size_t dim() const override { return nz_; }
  std::size_t noise_dim() const override { return 0; }
  std::size_t prior_noise_dim() const override { return p_; }  // one draw per position
  CodeGrid code_grid() const override { return {k_, d_, p_, height_, width_}; }

  std::unique_ptr<Layer<T>> make_head(ParamLayout& layout, Shape in) override {
    std::unique_ptr<Layer<T>> head;
    if (in.is_image()) {
      // A 1x1 convolution to D channels: one z_e per position of the encoder's grid.
      const std::size_t positions = in.height * in.width;
      if (positions * d_ != nz_)
        throw InputError("model: the vq family's codes of " + std::to_string(d_) + " values on the encoder's " +
                         std::to_string(in.height) + "x" + std::to_string(in.width) + " grid make a latent of " +
                         std::to_string(positions * d_) + " values, latent is " + std::to_string(nz_) +
                         " (set --latent " + std::to_string(positions * d_) + ")");
      height_ = in.height;
      width_ = in.width;
      LayerSpec spec{LayerKind::conv, d_};
      spec.kernel = 1;
      head = std::make_unique<Conv2d<T>>(layout, "encoder.z_e", in, spec, Act::identity, 0.0f);
    } else {
      head = std::make_unique<DenseLayer<T>>(layout, "encoder.z_e", in, nz_, Act::identity, 0.0f);
    }
    codebook_ = layout.add("latent.codebook", {k_, d_});
    usage_ = layout.add("latent.code_usage", {k_});
    if (ema()) sums_ = layout.add("latent.code_sums", {k_, d_});
    own_slices_ = {{codebook_, k_ * d_}, {usage_, k_}};
    if (ema()) own_slices_.push_back({sums_, k_ * d_});
    return head;
  }

  std::vector<ParamSlice> untrained_slices() const override {
    std::vector<ParamSlice> slices{{usage_, k_}};
    if (ema()) {
      slices.push_back({codebook_, k_ * d_});
      slices.push_back({sums_, k_ * d_});
    }
    return slices;
  }

  void initialize(T* params) override {
    // No assignments yet: with restarts, every code moves to an encoder
    // output after the first step (an initialization from the data).
    std::fill_n(params + usage_, k_, T(0));
    if (ema()) std::fill_n(params + sums_, k_ * d_, T(0));
  }

  void plan(std::size_t draws) override {
    if (draws <= planned_) return;
    planned_ = draws;
    z_e_.assign(draws * p_ * d_, T(0));
    codes_.assign(draws * p_, 0);
    squared_error_.assign(draws, T(0));
    scores_.assign(std::min(draws * p_, kSearchBlock) * k_, T(0));
    norms_.assign(k_, T(0));
    batch_counts_.assign(k_, 0.0);
    batch_sums_.assign(k_ * d_, 0.0);
    uniforms_.assign(k_, 0.0f);
  }

  void sample(const T* params, MatrixView<const T> head, std::size_t samples, const T*,
              const PosteriorSample<T>& out) override {
    quantize(params, head, codes_.data(), squared_error_.data());
    const T* e = params + codebook_;
    for (std::size_t m = 0; m < head.rows; ++m) {
      T* z = out.z + m * samples * nz_;
      embed_row(e, codes_.data() + m * p_, z);
      for (std::size_t s = 1; s < samples; ++s) std::copy_n(z, nz_, z + s * nz_);
      out.kl[m] = static_cast<T>(double(p_) * log_k_);
    }
    std::fill_n(out.log_q, head.rows * samples, T(0));
    std::fill_n(out.log_prior, head.rows * samples, static_cast<T>(-double(p_) * log_k_));
  }

  void backward(const T* params, T* grads, GradMode mode, MatrixView<const T> head, std::size_t samples, const T*,
                const T*, const PosteriorGrad<T>& grad, MatrixView<T> dhead) override {
    const T* e = params + codebook_;
    const double w = 1.0 / double(head.rows);  // the loss is the minibatch's mean over datapoints
    const double beta = book_.commitment;
    // Straight-through: dL/dz_e = sum_s dL/dz_q, plus the commitment term's 2 beta (z_e - e) / M.
    for (std::size_t m = 0; m < head.rows; ++m) {
      const std::uint32_t* code = codes_.data() + m * p_;
      const T* ze = head.row(m);
      T* dze = dhead.row(m);
      for (std::size_t j = 0; j < nz_; ++j) {
        double straight = 0;
        for (std::size_t s = 0; s < samples; ++s) straight += double(grad.dz[(m * samples + s) * nz_ + j]);
        const double diff = double(ze[j]) - double(e[code[j % p_] * d_ + j / p_]);
        dze[j] = static_cast<T>(straight + 2 * beta * w * diff);
      }
    }
    if (mode == GradMode::none) return;
    if (mode == GradMode::overwrite)
      for (const ParamSlice& slice : own_slices_) std::fill_n(grads + slice.offset, slice.size, T(0));
    if (!ema()) {
      // The codebook term's gradient 2 (e - z_e) / M, into each assigned code.
      T* de = grads + codebook_;
      for (std::size_t m = 0; m < head.rows; ++m)
        for (std::size_t j = 0; j < nz_; ++j) {
          const std::size_t i = codes_[m * p_ + j % p_] * d_ + j / p_;  // code k's value d of position p
          de[i] = static_cast<T>(double(de[i]) + 2 * w * (double(e[i]) - double(head.row(m)[j])));
        }
    }
    gather_statistics(head);
  }

  void begin_update() override {
    std::fill(batch_counts_.begin(), batch_counts_.end(), 0.0);
    std::fill(batch_sums_.begin(), batch_sums_.end(), 0.0);
    pool_rows_ = 0;
  }

  void end_update(T* params, std::uint64_t seed, std::uint64_t step) override {
    if (pool_rows_ == 0) return;  // no backward pass since begin_update: nothing to learn from
    const double g = book_.decay;
    T* usage = params + usage_;
    T* e = params + codebook_;
    for (std::size_t k = 0; k < k_; ++k) usage[k] = static_cast<T>(g * double(usage[k]) + (1 - g) * batch_counts_[k]);
    if (ema()) {
      T* sums = params + sums_;
      double n = 0;
      for (std::size_t k = 0; k < k_; ++k) n += double(usage[k]);
      for (std::size_t k = 0; k < k_; ++k) {
        const double smoothed = (double(usage[k]) + kLaplaceEps) * n / (n + double(k_) * kLaplaceEps);
        for (std::size_t d = 0; d < d_; ++d) {
          const std::size_t i = k * d_ + d;
          sums[i] = static_cast<T>(g * double(sums[i]) + (1 - g) * batch_sums_[i]);
          e[i] = static_cast<T>(double(sums[i]) / smoothed);
        }
      }
    }
    if (!book_.restarts) return;
    fill_uniform(uniforms_.data(), k_, seed, rng_stream(RngPurpose::codebook, step));
    for (std::size_t k = 0; k < k_; ++k) {
      if (double(usage[k]) >= kDeadBelow) continue;
      const auto pick = std::min(pool_rows_ - 1, static_cast<std::size_t>(double(uniforms_[k]) * double(pool_rows_)));
      std::copy_n(pool_.data() + pick * d_, d_, e + k * d_);
      usage[k] = static_cast<T>(kDeadBelow);
      if (ema()) std::copy_n(e + k * d_, d_, params + sums_ + k * d_);  // m_k = e_k N_k with N_k = 1
    }
  }

  void log_density(MatrixView<const T>, std::size_t, const T*, T*, const T*, MatrixView<T>) const override {
    throw InputError("the vq family's q(z|x) is a point mass on the nearest codes: it has no density");
  }

  void summarize(const T* params, MatrixView<const T> head, MatrixView<T> mean,
                 MatrixView<T> log_variance) const override {
    // The encoding is z_q itself (a point mass). Const, so with scratch of its own.
    std::vector<std::uint32_t> codes(head.rows * p_);
    nearest_codes(params, head, codes.data(), nullptr, SearchScratch{});
    for (std::size_t m = 0; m < head.rows; ++m) {
      embed_row(params + codebook_, codes.data() + m * p_, mean.row(m));
      std::fill_n(log_variance.row(m), nz_, -std::numeric_limits<T>::infinity());
    }
  }

  void sample_prior(const T* params, MatrixView<const T> noise, MatrixView<T> z) override {
    // The uniform prior: each position's code from its noise value through the normal CDF.
    for (std::size_t r = 0; r < noise.rows; ++r) {
      std::uint32_t* code = codes_.data();
      for (std::size_t p = 0; p < p_; ++p) {
        const double u = 0.5 * std::erfc(-double(noise.row(r)[p]) / std::numbers::sqrt2);
        code[p] = static_cast<std::uint32_t>(std::min(k_ - 1, static_cast<std::size_t>(u * double(k_))));
      }
      embed_row(params + codebook_, code, z.row(r));
    }
  }

  void add_log_prior(const T*, MatrixView<const T>, T*, MatrixView<T>) const override {
    throw InputError("the vq family's prior is uniform over a discrete codebook: z has no density to sample by HMC");
  }

  void layer_means(const T* params, MatrixView<const T> head, MatrixView<T> means) override {
    quantize(params, head, codes_.data(), nullptr);
    for (std::size_t m = 0; m < head.rows; ++m) embed_row(params + codebook_, codes_.data() + m * p_, means.row(m));
  }

  void quantize(const T* params, MatrixView<const T> head, std::uint32_t* codes, T* squared_error) override {
    nearest_codes(params, head, codes, squared_error, {z_e_.data(), scores_.data(), norms_.data()});
  }

  void embed_codes(const T* params, const std::uint32_t* codes, MatrixView<T> z) const override {
    for (std::size_t r = 0; r < z.rows; ++r) embed_row(params + codebook_, codes + r * p_, z.row(r));
  }

 private:
  struct SearchScratch {  // all null: nearest_codes allocates its own
    T* z_e = nullptr;     // [vectors, D]: the head's z_e position-major
    T* scores = nullptr;  // [kSearchBlock, K]
    T* norms = nullptr;   // [K]
  };

  bool ema() const { return book_.update == CodebookUpdate::ema; }
  // z[d * P + p] = e[codes[p]][d]: a row of the grid the decoder reads.
  void embed_row(const T* e, const std::uint32_t* codes, T* z) const {
    for (std::size_t d = 0; d < d_; ++d)
      for (std::size_t p = 0; p < p_; ++p) z[d * p_ + p] = e[codes[p] * d_ + d];
  }

  // The nearest code of every position of every row: argmin_k ||e_k||^2 - 2 e_k . z_e, the
  // products in blocks of kSearchBlock vectors (one GEMM each), then
  // squared_error[m] = sum_p ||z_e - e||^2 computed directly (no cancellation).
  void nearest_codes(const T* params, MatrixView<const T> head, std::uint32_t* codes, T* squared_error,
                     SearchScratch scratch) const {
    std::vector<T> own_z_e, own_scores, own_norms;
    if (scratch.z_e == nullptr) {
      own_z_e.resize(head.rows * p_ * d_);
      own_scores.resize(std::min(head.rows * p_, kSearchBlock) * k_);
      own_norms.resize(k_);
      scratch = {own_z_e.data(), own_scores.data(), own_norms.data()};
    }
    const T* e = params + codebook_;
    const std::size_t vectors = head.rows * p_;
    for (std::size_t m = 0; m < head.rows; ++m)
      for (std::size_t d = 0; d < d_; ++d)
        for (std::size_t p = 0; p < p_; ++p) scratch.z_e[(m * p_ + p) * d_ + d] = head.row(m)[d * p_ + p];
    for (std::size_t k = 0; k < k_; ++k) {
      double sq = 0;
      for (std::size_t d = 0; d < d_; ++d) sq += double(e[k * d_ + d]) * double(e[k * d_ + d]);
      scratch.norms[k] = static_cast<T>(sq);
    }
    for (std::size_t first = 0; first < vectors; first += kSearchBlock) {
      const std::size_t n = std::min(kSearchBlock, vectors - first);
      backend::gemm<T>(backend::Trans::no, backend::Trans::yes, n, k_, d_, T(-2), scratch.z_e + first * d_, d_, e,
                       d_, T(0), scratch.scores, k_);
      const T* norms = scratch.norms;
      const T* scores = scratch.scores;
      pool::for_ranges(n, [&](std::size_t lo, std::size_t hi) {
        for (std::size_t v = lo; v < hi; ++v) {
          const T* row = scores + v * k_;
          std::size_t best = 0;
          T best_distance = row[0] + norms[0];
          for (std::size_t k = 1; k < k_; ++k)
            if (row[k] + norms[k] < best_distance) best_distance = row[best = k] + norms[k];
          codes[first + v] = static_cast<std::uint32_t>(best);
        }
      });
    }
    if (!squared_error) return;
    for (std::size_t m = 0; m < head.rows; ++m) {
      double sq = 0;
      for (std::size_t p = 0; p < p_; ++p) {
        const T* z = scratch.z_e + (m * p_ + p) * d_;
        const T* code = e + codes[m * p_ + p] * d_;
        for (std::size_t d = 0; d < d_; ++d) sq += (double(z[d]) - double(code[d])) * (double(z[d]) - double(code[d]));
      }
      squared_error[m] = static_cast<T>(sq);
    }
  }

  // n_k, s_k and the restart candidates of this step's rows (sample() left z_e position-major in z_e_).
  void gather_statistics(MatrixView<const T> head) {
    const std::size_t vectors = head.rows * p_;
    if (pool_.size() < (pool_rows_ + vectors) * d_) pool_.resize((pool_rows_ + vectors) * d_);  // the first step's
    for (std::size_t v = 0; v < vectors; ++v) {
      const std::size_t k = codes_[v];
      const T* z = z_e_.data() + v * d_;
      batch_counts_[k] += 1;
      for (std::size_t d = 0; d < d_; ++d) batch_sums_[k * d_ + d] += double(z[d]);
    }
    std::copy_n(z_e_.data(), vectors * d_, pool_.data() + pool_rows_ * d_);
    pool_rows_ += vectors;
  }

  std::size_t nz_, d_, k_, p_;
  CodebookConfig book_;
  double log_k_;
  std::size_t height_ = 0, width_ = 0;
  std::size_t codebook_ = 0, usage_ = 0, sums_ = 0;  // offsets of latent.codebook, code_usage, code_sums
  std::vector<ParamSlice> own_slices_;                // those three tensors (code_sums with ema only)
  std::size_t planned_ = 0;
  std::vector<T> z_e_, scores_, norms_, squared_error_;
  std::vector<std::uint32_t> codes_;  // [draws, P] of the last sample() or quantize()
  std::vector<double> batch_counts_, batch_sums_;  // n_k, s_k since begin_update()
  std::vector<T> pool_;                            // [pool_rows_, D]: the z_e since begin_update()
  std::size_t pool_rows_ = 0;
  std::vector<float> uniforms_;
};

}  // namespace

template <class T>
std::unique_ptr<LatentSpace<T>> make_codebook_latent(const ModelConfig& config) {
  if (config.decoder_only)
    throw InputError("model: the vq family's codebook is learned with its encoder, which Monte Carlo EM does not "
                     "train (decoder_only)");
  if (config.weight_posterior)
    throw InputError("model: full VB's weight posterior covers the decoder; the vq family's codebook would stay a "
                     "point estimate (weight_posterior)");
  return std::make_unique<CodebookLatent<T>>(config);
}

template std::unique_ptr<LatentSpace<float>> make_codebook_latent<float>(const ModelConfig&);
template std::unique_ptr<LatentSpace<double>> make_codebook_latent<double>(const ModelConfig&);

}  // namespace aevb
