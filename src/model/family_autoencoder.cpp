// The plain autoencoder: z = f(x), a point with no prior and no KL, trained
// on the reconstruction term alone. It is the baseline the VAE is contrasted
// with (the encoder's output is a code, not a distribution), and the second
// family that keeps the seam honest. Every sample of a datapoint is the same
// point, so its terms log q, log p and the KL are 0.
#include "model/families.hpp"

#include "nn/dense.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <limits>

namespace aevb {
namespace {

constexpr const char* kNoPrior = "the autoencoder family has no prior p(z)";

template <class T>
class PointLatent final : public LatentSpace<T> {
 public:
  explicit PointLatent(std::size_t dim) : dim_(dim) {}
  std::size_t dim() const override { return dim_; }
  std::size_t noise_dim() const override { return 0; }
  std::size_t prior_noise_dim() const override { return 0; }
  std::unique_ptr<Layer<T>> make_head(ParamLayout& layout, Shape in) override {
    return std::make_unique<DenseLayer<T>>(layout, "encoder.z", in, dim_, Act::identity, 0.0f);
  }
  void sample(const T*, MatrixView<const T> head, std::size_t samples, const T*,
              const PosteriorSample<T>& out) override {
    for (std::size_t m = 0; m < head.rows; ++m) {
      for (std::size_t s = 0; s < samples; ++s) std::copy_n(head.row(m), dim_, out.z + (m * samples + s) * dim_);
      out.kl[m] = T(0);
    }
    std::fill_n(out.log_q, head.rows * samples, T(0));
    std::fill_n(out.log_prior, head.rows * samples, T(0));
  }
  void backward(const T*, T*, GradMode, MatrixView<const T> head, std::size_t samples, const T*, const T*,
                const PosteriorGrad<T>& grad, MatrixView<T> dhead) override {
    // z_ms = head_m for every s: dL/dhead_m = sum_s dL/dz_ms; the terms are constants.
    for (std::size_t m = 0; m < head.rows; ++m) {
      T* d = dhead.row(m);
      std::copy_n(grad.dz + m * samples * dim_, dim_, d);
      for (std::size_t s = 1; s < samples; ++s) {
        const T* dz = grad.dz + (m * samples + s) * dim_;
        for (std::size_t j = 0; j < dim_; ++j) d[j] += dz[j];
      }
    }
  }
  void log_density(MatrixView<const T>, std::size_t, const T*, T*, const T*, MatrixView<T>) const override {
    throw InputError("the autoencoder family's z is a point: it has no density q(z|x)");
  }
  void summarize(const T*, MatrixView<const T> head, MatrixView<T> mean, MatrixView<T> log_variance) const override {
    for (std::size_t r = 0; r < head.rows; ++r) {
      std::copy_n(head.row(r), dim_, mean.row(r));
      std::fill_n(log_variance.row(r), dim_, -std::numeric_limits<T>::infinity());
    }
  }
  void sample_prior(const T*, MatrixView<const T>, MatrixView<T>) override { throw InputError(kNoPrior); }
  void add_log_prior(const T*, MatrixView<const T>, T*, MatrixView<T>) const override {
    throw InputError(kNoPrior);
  }
  void layer_means(const T*, MatrixView<const T> head, MatrixView<T> means) override {
    for (std::size_t r = 0; r < head.rows; ++r) std::copy_n(head.row(r), dim_, means.row(r));
  }

 private:
  std::size_t dim_;
};

}  // namespace

template <class T>
std::unique_ptr<LatentSpace<T>> make_point_latent(const ModelConfig& config) {
  return std::make_unique<PointLatent<T>>(config.latent);
}

template std::unique_ptr<LatentSpace<float>> make_point_latent<float>(const ModelConfig&);
template std::unique_ptr<LatentSpace<double>> make_point_latent<double>(const ModelConfig&);

}  // namespace aevb
