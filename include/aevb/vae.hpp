#pragma once
// The public API: build a VAE from a ModelConfig, train it with a Trainer,
// use it to encode, decode, sample and evaluate. All values are float32,
// row-major, one datapoint per row. Threads: aevb::set_threads.
#include <aevb/communicator.hpp>
#include <aevb/config.hpp>
#include <aevb/error.hpp>
#include <aevb/matrix.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace aevb {

/// One named tensor inside the flat parameter buffer (PyTorch conventions:
/// linear weight [out, in], bias [out]); see docs/model-format.md.
struct ParameterInfo {
  std::string name;
  std::vector<std::size_t> shape;
  std::size_t offset = 0;  // in floats
  std::size_t size() const;
};

/// A discrete latent's shape (the vq family's): K codes of D values at
/// `positions` places, height x width when the encoder's output is an image
/// (0 otherwise). codes == 0: the family has none.
struct CodeGrid {
  std::size_t codes = 0, dim = 0, positions = 0, height = 0, width = 0;
};

/// Sets the threads of aevb's one pool, which runs its kernels and its
/// single-threaded BLAS calls (0: the processors this process may use).
void set_threads(int threads);

template <class T> class Engine;  // src/model/engine.hpp

class Vae {
 public:
  /// Builds the network and initializes it from `seed` (config.init).
  explicit Vae(const ModelConfig& config, std::uint64_t seed = 1);
  ~Vae();
  Vae(Vae&&) noexcept;
  Vae& operator=(Vae&&) noexcept;

  const ModelConfig& config() const;
  std::span<float> parameters();
  std::span<const float> parameters() const;
  const std::vector<ParameterInfo>& parameter_table() const;
  /// Whether the family has a prior p(z): sample(), log_likelihood() and the
  /// importance-weighted bound need one (the autoencoder has none).
  bool has_prior() const;

  /// Every x given to the model below is [rows, model_row_width(config())]:
  /// input_dim values and, for a conditional model (classes() > 0), the
  /// one-hot label after them (aevb::with_label_columns gathers such rows).

  /// q(z|x): the posterior's mean and log-variance, [rows, latent] each (the
  /// autoencoder's code and -inf, a point mass).
  void encode(ConstMatrix x, Matrix mu, Matrix logvar) const;
  /// E[x|z]: Bernoulli probabilities or the Gaussian mean, [rows, input_dim].
  /// InputError for a conditional model (decode_class).
  void decode(ConstMatrix z, Matrix mean) const;
  /// z ~ p(z) decoded to E[x|z] (N(0, I) for the VAE; z2 ~ N(0, I), z1 ~
  /// p(z1|z2) for the 2-layer model); out has out.rows samples. InputError
  /// for a conditional model (sample_class).
  void sample(std::uint64_t seed, Matrix out) const;
  /// The label classes of a conditional model (the cvae family's K); 0 for the others.
  std::size_t classes() const;
  /// E[x|z, y = label] of a conditional model, [rows, input_dim]. InputError
  /// for an unconditional model or a label >= classes().
  void decode_class(ConstMatrix z, std::size_t label, Matrix mean) const;
  /// z ~ N(0, I) decoded given y = label: class-conditional samples, each
  /// class its own noise stream (more rows extend the same sequence).
  void sample_class(std::size_t label, std::uint64_t seed, Matrix out) const;
  /// The widths of the stochastic layers, bottom (z, what decode() reads) first.
  std::vector<std::size_t> latent_layers() const;
  /// Each layer's posterior mean per row of x, [rows, sum of latent_layers()]:
  /// mu(x) for one layer; mu1(x) | mu2(mu1(x)) for two (the mean path).
  void layer_means(ConstMatrix x, Matrix means) const;
  /// The clusters of a categorical latent y (the cluster family's K); 0 for a family without one.
  std::size_t clusters() const;
  /// q(y|x) per row of x, [rows, clusters()]: the cluster family's classifier
  /// at z = E[z|x]. InputError for a family without clusters.
  void cluster_probabilities(ConstMatrix x, Matrix probabilities) const;
  /// z ~ p(z|y = cluster) decoded to E[x|z], out.rows samples; each cluster
  /// its own noise stream, so more rows extend the same sequence. InputError
  /// for a family without clusters or a cluster >= clusters().
  void sample_cluster(std::size_t cluster, std::uint64_t seed, Matrix out) const;
  /// A discrete latent's grid (the vq family's); codes == 0 for the other families.
  CodeGrid code_grid() const;
  /// Each row's nearest codes, [x.rows, positions] in codes, and unless
  /// squared_error is empty its sum over positions of ||z_e - e||^2.
  /// InputError for a family without a codebook.
  void quantize(ConstMatrix x, std::span<std::uint32_t> codes, std::span<float> squared_error = {}) const;
  /// E[x|z_q] of grids of codes [out.rows, positions] (a code prior's
  /// samples). InputError for a code >= K or a family without a codebook.
  void decode_codes(std::span<const std::uint32_t> codes, Matrix out) const;
  /// The same draws z ~ N(0, I) decoded whatever the family: sample() where
  /// the family has that prior; for one without (the autoencoder), what a
  /// user who assumed it would get, which shows why a plain autoencoder does
  /// not generate (its codes need not lie where N(0, I) puts its mass).
  void decode_standard_normal(std::uint64_t seed, Matrix out) const;
  /// The bound averaged over the rows of x (per datapoint, nats). With a
  /// weight posterior (full VB), its mean over `weight_samples` decoders
  /// theta ~ q(theta): E_q(theta) ELBO(x; theta), a bound on log E_q(theta) p(x|theta).
  /// Given `ranks`, each rank computes its share of the row chunks and the
  /// sums are combined in chunk order: every rank returns the bits one
  /// process returns (docs/distributed.md).
  Bound evaluate(ConstMatrix x, const ObjectiveConfig& objective, std::uint64_t seed,
                 std::size_t weight_samples = kWeightSamples, Communicator* ranks = nullptr) const;
  /// log p(x) per row by importance sampling with q as proposal: L_k with
  /// k samples (k = 5000 is the standard test estimator), computed in chunks.
  /// With a weight posterior, the k samples are spread over `weight_samples`
  /// decoders theta_d ~ q(theta), so that the mean weight estimates the
  /// predictive E_q(theta) p(x|theta) (App. F; k >= weight_samples).
  std::vector<double> log_likelihood(ConstMatrix x, std::size_t k, std::uint64_t seed,
                                     std::size_t weight_samples = kWeightSamples) const;
  /// Decoders drawn from q(theta) by default when evaluating a weight posterior.
  static constexpr std::size_t kWeightSamples = 10;
  /// Whether the model has full VB's weight posterior q(theta) (ModelConfig::weight_posterior).
  bool has_weight_posterior() const;

  Engine<float>& engine();
  const Engine<float>& engine() const;

 private:
  void require_prior(const char* what) const;  // throws InputError naming `what`
  /// InputError for a conditional model, naming `what` and the call that takes the label instead.
  void require_unconditional(const char* what, const char* instead) const;
  /// InputError unless the model is conditional and label < classes().
  void require_class(std::size_t label, const char* what) const;
  std::unique_ptr<Engine<float>> engine_;
};

/// Minibatch AEVB (Algorithm 1): one gradient step per call.
class Trainer {
 public:
  /// With a `communicator` of several ranks (which must outlive the
  /// Trainer), each step computes this rank's shards of config.shards
  /// (shards_of_rank) and sums all of them in shard order with the other
  /// ranks (ordered_sum): every rank is given the same minibatch and makes
  /// the same update. InputError when there are more ranks than shards, or
  /// shards > 1 with an algorithm that cannot split its gradient (only aevb can).
  Trainer(Vae& model, const TrainConfig& config, Communicator* communicator = nullptr);
  ~Trainer();

  /// One step on a minibatch (rows <= config.batch): draws eps, computes the
  /// bound and its gradient, updates the parameters. Returns the batch's bound
  /// before the update. Throws NumericError, parameters untouched, when the
  /// loss or the gradient is not finite. `indices` are the rows' indices in
  /// the training set (required by MCEM, whose chains they key). An algorithm
  /// with several updates per batch (MCEM's 5 M steps) makes them all here:
  /// steps() grows by that many, the first update's bound is returned, and a
  /// NumericError keeps the updates before the one that diverged.
  Bound step(ConstMatrix batch, std::span<const std::uint32_t> indices = {});

  std::uint64_t steps() const { return step_; }
  const Vae& model() const { return model_; }
  /// The KL weight the next step uses (beta, ramped during the warm-up).
  float kl_weight() const;
  /// The learning-rate schedule's factor at the last update (at step steps(); 1 before any).
  double lr_scale() const;
  /// Optimizer moments, one flat buffer (checkpoints save it whole).
  std::span<float> optimizer_state();
  /// The algorithm's own state between steps (MCEM's chains), flat; empty
  /// for most algorithms. Checkpoints save it whole.
  std::span<float> algorithm_state();
  void restore(std::uint64_t steps, std::span<const float> optimizer_state,
               std::span<const float> algorithm_state = {});
  const TrainConfig& config() const { return config_; }

 private:
  struct State;
  Bound sharded_gradient(ConstMatrix batch, float kl_weight);
  Vae& model_;
  TrainConfig config_;
  Communicator* communicator_;
  std::unique_ptr<State> state_;
  std::uint64_t step_ = 0;
};

}  // namespace aevb
