#pragma once
// The model seam: what a model family provides to the engine. A family is a
// latent space (how the encoder's output becomes z, with log q(z|x), log p(z)
// and the KL, and their gradients) plus the encoder head that produces that
// output; the networks around it, the likelihood, the objective, training,
// evaluation, model files and figures are shared by every family and never
// ask which one they hold. docs/extending.md: how to add one.
#include "core/param_layout.hpp"
#include "nn/grad_mode.hpp"
#include "nn/layer.hpp"
#include "prob/latent_terms.hpp"

#include <aevb/config.hpp>
#include <aevb/matrix.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace aevb {

template <class T>
class LatentSpace {
 public:
  virtual ~LatentSpace() = default;

  /// z values per sample: what the decoder reads.
  virtual std::size_t dim() const = 0;
  /// Standard-normal noise values per sample that sample() reads (0: z is a
  /// function of x).
  virtual std::size_t noise_dim() const = 0;
  /// Standard-normal noise values per draw that sample_prior() reads.
  virtual std::size_t prior_noise_dim() const = 0;
  /// The encoder's last layer, from its body's output `in` to this space's
  /// parameters (registered in `layout`, named as the model file keeps them).
  /// A family with networks of its own (the 2-layer model's q(z2|z1) and
  /// p(z1|z2)) builds and registers them here; called once.
  virtual std::unique_ptr<Layer<T>> make_head(ParamLayout& layout, Shape in) = 0;
  /// Sizes the family's own workspace for up to `draws` rows of z (grows only).
  virtual void plan(std::size_t /*draws*/) {}

  /// From the head's output [M, head width] and eps [M*S, noise_dim()]:
  /// z and the terms of `out` for S = samples draws per datapoint. `params`:
  /// the model's flat parameters, for a family with networks of its own.
  virtual void sample(const T* params, MatrixView<const T> head, std::size_t samples, const T* eps,
                      const PosteriorSample<T>& out) = 0;
  /// After sample() on the same head and eps: dhead = dL/d(head) given the
  /// loss's dependence on z and on the terms; a family with networks of its
  /// own adds (or, as `mode` says, writes) their parameters' gradients to grads.
  virtual void backward(const T* params, T* grads, GradMode mode, MatrixView<const T> head, std::size_t samples,
                        const T* eps, const T* z, const PosteriorGrad<T>& grad, MatrixView<T> dhead) = 0;
  /// log q(z|x) of given points z [M*S, dim] (not drawn by sample(): the
  /// sleep phase's dreams, a wake phase's held samples) into log_q unless it
  /// is null, and with dhead.data set, dhead = sum_s weight[ms] d log q / d head
  /// with z held constant. Throws InputError for a family without a density.
  virtual void log_density(MatrixView<const T> head, std::size_t samples, const T* z, T* log_q, const T* weight,
                           MatrixView<T> dhead) const = 0;
  /// The encoding a user reads: q(z|x)'s mean [M, dim] and log-variance
  /// [M, dim] (-inf for a point mass). `params`: for a family whose z is made
  /// of its own parameters (the vq family's codes).
  virtual void summarize(const T* params, MatrixView<const T> head, MatrixView<T> mean,
                         MatrixView<T> log_variance) const = 0;

  /// z ~ p(z) from noise [rows, prior_noise_dim()] ~ N(0, I) into z [rows,
  /// dim] (rows <= planned draws). Throws InputError for a family without a prior.
  virtual void sample_prior(const T* params, MatrixView<const T> noise, MatrixView<T> z) = 0;
  /// The prior at given z [n, dim]: log_prior[r] += log p(z_r) and, unless
  /// dz.data is null, dz[r] += d log p(z_r) / dz: the prior's share of the
  /// HMC target log p(x, z) (App. D and E). `params`: for a prior with
  /// parameters (the cluster family's means). Throws InputError where p(z)
  /// has no closed form.
  virtual void add_log_prior(const T* params, MatrixView<const T> z, T* log_prior, MatrixView<T> dz) const = 0;

  /// The widths of the stochastic layers, bottom (z, what the decoder reads) first.
  virtual std::vector<std::size_t> layer_dims() const { return {dim()}; }
  /// Each layer's posterior mean given the head [M, head width] into means
  /// [M, sum of layer_dims()], layer after layer: what the active units
  /// (Burda et al.: A_u = Cov_x E_q[u]) are measured on.
  virtual void layer_means(const T* params, MatrixView<const T> head, MatrixView<T> means) = 0;

  /// Classes of a categorical latent y beside z (the cluster family's K); 0: none.
  virtual std::size_t categories() const { return 0; }
  /// The cluster assignment's probabilities q(y|x) [M, categories()] given
  /// the head [M, head width] (M <= planned draws); only where categories() > 0.
  virtual void category_probabilities(const T* /*params*/, MatrixView<const T> /*head*/,
                                      MatrixView<T> /*probabilities*/) {
    throw std::logic_error("category_probabilities: this family has no categorical latent");
  }
  /// z ~ p(z|y) for one category y < categories(), from noise [rows, dim()] ~ N(0, I).
  virtual void sample_category(const T* /*params*/, std::size_t /*y*/, MatrixView<const T> /*noise*/,
                               MatrixView<T> /*z*/) {
    throw std::logic_error("sample_category: this family has no categorical latent");
  }

  /// A discrete latent's grid of codes (VQ-VAE's); codes == 0: none.
  virtual CodeGrid code_grid() const { return {}; }
  /// Each row's code per position [M, positions] (nearest code, the first of
  /// equals) and, unless null, squared_error[m] = sum over positions of
  /// ||z_e - e||^2, given the head [M, head width] (M <= planned draws).
  virtual void quantize(const T* /*params*/, MatrixView<const T> /*head*/, std::uint32_t* /*codes*/,
                        T* /*squared_error*/) {
    throw std::logic_error("quantize: this family has no codebook");
  }
  /// z [rows, dim()] made of the codebook vectors of codes [rows, positions]: what the decoder reads.
  virtual void embed_codes(const T* /*params*/, const std::uint32_t* /*codes*/, MatrixView<T> /*z*/) const {
    throw std::logic_error("embed_codes: this family has no codebook");
  }

  /// Parameters that are not trained by gradient (a codebook's moving
  /// averages): their slices, which the optimizer leaves alone.
  virtual std::vector<ParamSlice> untrained_slices() const { return {}; }
  /// After the parameters are drawn: sets what the family starts at a fixed value.
  virtual void initialize(T* /*params*/) {}
  /// Before a training step's first forward pass: forgets what the last step gathered.
  virtual void begin_update() {}
  /// After the optimizer's update of step `step` (1-based): the family's own
  /// updates from what the step's backward passes gathered (the codebook's
  /// moving averages and restarts), with randomness keyed by (seed, step).
  virtual void end_update(T* /*params*/, std::uint64_t /*seed*/, std::uint64_t /*step*/) {}
};

/// A family as the registry (src/model/families.cpp) knows it.
struct FamilyInfo {
  std::string_view name;
  std::string_view summary;  // one line, for --help and docs
  /// A prior to sample from and a density: sampling, the importance-weighted
  /// bound and log p(x) are defined.
  bool has_prior = true;
  /// Stochastic layers: 2 reads ModelConfig::top_latent and top_hidden.
  std::size_t stochastic_layers = 1;
  /// A categorical latent y beside z: reads ModelConfig::clusters.
  bool clusters = false;
  /// q(y|z) is a classifier network: reads ModelConfig::classifier_hidden.
  /// The classifier is in estimator B's bound alone, so training refuses
  /// estimators A and iw.
  bool classifier = false;
  /// A codebook (VQ-VAE): reads ModelConfig::codebook. Its bound's KL is the
  /// constant positions x log K, so training refuses estimators A and iw, as
  /// for `clusters`; its codebook terms reach the gradient through backward().
  bool codebook = false;
  /// A Gaussian-mixture prior in latent.mixture_logits, latent.means and
  /// latent.logvars, which a run can start from a mixture fitted to a
  /// pretrained autoencoder's codes (--pretrain-epochs, train/mixture_start.hpp).
  bool mixture_start = false;
  /// Conditioned on a given label y (the conditional VAE): reads
  /// ModelConfig::classes; the engine gives the networks the one-hot label
  /// beside x and beside z, and the family's latent space never sees it.
  bool conditional = false;
  std::unique_ptr<LatentSpace<float>> (*make_float)(const ModelConfig&) = nullptr;
  std::unique_ptr<LatentSpace<double>> (*make_double)(const ModelConfig&) = nullptr;
};

std::span<const FamilyInfo> families();
/// The family called `name`; throws InputError listing the known ones.
const FamilyInfo& find_family(std::string_view name);

template <class T>
std::unique_ptr<LatentSpace<T>> make_latent_space(const ModelConfig& config);

}  // namespace aevb
