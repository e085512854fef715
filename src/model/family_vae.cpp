// The paper's family: q(z|x) = N(mu, diag(sigma^2)) with reparameterized
// samples and the analytic KL against p(z) = N(0, I) (sec. 2.4, App. B,
// App. C.2); the encoder head is PyTorch's two linear heads mu and logvar.
#include "model/families.hpp"

#include "nn/dense.hpp"
#include "prob/gaussian_posterior.hpp"

#include <algorithm>

namespace aevb {
namespace {

template <class T>
class GaussianLatent final : public LatentSpace<T> {
 public:
  explicit GaussianLatent(std::size_t dim) : dim_(dim) {}
  std::size_t dim() const override { return dim_; }
  std::size_t noise_dim() const override { return dim_; }
  std::size_t prior_noise_dim() const override { return dim_; }
  std::unique_ptr<Layer<T>> make_head(ParamLayout& layout, Shape in) override {
    return DenseLayer<T>::twin(layout, "encoder.mu", "encoder.logvar", in, dim_);
  }
  void sample(const T*, MatrixView<const T> head, std::size_t samples, const T* eps,
              const PosteriorSample<T>& out) override {
    reparameterize<T>(head, samples, eps, out);
  }
  void backward(const T*, T*, GradMode, MatrixView<const T> head, std::size_t samples, const T* eps, const T* z,
                const PosteriorGrad<T>& grad, MatrixView<T> dhead) override {
    reparameterize_backward<T>(head, samples, eps, z, grad, dhead);
  }
  void log_density(MatrixView<const T> head, std::size_t samples, const T* z, T* log_q, const T* weight,
                   MatrixView<T> dhead) const override {
    gaussian_log_density<T>(head, samples, z, log_q, weight, dhead);
  }
  void summarize(const T*, MatrixView<const T> head, MatrixView<T> mean, MatrixView<T> log_variance) const override {
    split_gaussian_head(head, mean, log_variance);
  }
  void sample_prior(const T*, MatrixView<const T> noise, MatrixView<T> z) override {  // p(z) = N(0, I)
    std::copy_n(noise.data, noise.size(), z.data);
  }
  void add_log_prior(const T*, MatrixView<const T> z, T* log_prior, MatrixView<T> dz) const override {
    add_standard_normal_log_density<T>(z, log_prior, dz);
  }
  void layer_means(const T*, MatrixView<const T> head, MatrixView<T> means) override {
    split_gaussian_head(head, means, MatrixView<T>{});
  }

 private:
  std::size_t dim_;
};

}  // namespace

template <class T>
std::unique_ptr<LatentSpace<T>> make_gaussian_latent(const ModelConfig& config) {
  return std::make_unique<GaussianLatent<T>>(config.latent);
}

template std::unique_ptr<LatentSpace<float>> make_gaussian_latent<float>(const ModelConfig&);
template std::unique_ptr<LatentSpace<double>> make_gaussian_latent<double>(const ModelConfig&);

}  // namespace aevb
