#pragma once
// Plain structs that describe a VAE and how to train it. Every field has the
// paper's default where the paper gives one (Kingma & Welling 2013, sec. 5).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aevb {

enum class Activation { tanh, relu, leaky_relu, softplus, sigmoid };
enum class Likelihood {
  bernoulli,       // logits; x in [0, 1] (binary or grey)
  gaussian,        // learned mean and log-variance (App. C.2)
  gaussian_fixed,  // learned mean, fixed variance c (the squared-error case)
};
enum class Estimator {
  A,   // eq. 6: Monte Carlo log p(x, z) - log q(z | x)
  B,   // eq. 7: analytic -KL (App. B) + Monte Carlo log p(x | z)
  iw,  // importance-weighted bound L_k (Burda et al. 2015), log-mean-exp over k
};
enum class Init { paper, glorot, he };  // paper: every parameter ~ N(0, 0.01^2)
enum class OptimizerKind { sgd, adagrad, adam };
/// How matrix products round their operands: float32 throughout, or operands
/// rounded to bfloat16 with float32 sums (AMX; as PyTorch's
/// set_float32_matmul_precision("medium")). TrainConfig sets it for training
/// steps, EvalOptions (src/eval/evaluation.hpp) for evaluation.
enum class MatmulPrecision { float32, bfloat16 };
/// How the vq family learns its codebook: by exponential moving averages of
/// the encoder outputs assigned to each code (van den Oord et al. 2017, App.
/// A.1), or by the gradient of its codebook term ||sg[z_e] - e||^2.
enum class CodebookUpdate { ema, gradient };

/// The vq family's discrete latent (VQ-VAE, van den Oord et al. 2017): K code
/// vectors of D values; the encoder's output is a grid of latent / D
/// positions, each replaced by its nearest code. codes = 0 for the other families.
struct CodebookConfig {
  std::size_t codes = 0;       // K
  std::size_t dim = 0;         // D
  float commitment = 0.25f;    // beta of the commitment term beta ||z_e - sg[e]||^2
  CodebookUpdate update = CodebookUpdate::ema;
  float decay = 0.99f;         // the moving averages' gamma (update = ema)
  /// A code whose moving average of assignments per minibatch falls below 1
  /// is moved to an encoder output of the current minibatch (SoundStream's
  /// and Jukebox's restarts), so that no code stays dead.
  bool restarts = true;

  bool operator==(const CodebookConfig&) const = default;
};

/// One declared layer of an encoder or decoder (docs/architectures.md), as
/// written on the command line: dense:OUT, conv:OUT:KERNEL:STRIDE:PADDING,
/// deconv:OUT:KERNEL:STRIDE:PADDING[:OUTPUT_PADDING], residual:HIDDEN,
/// unflatten:C:H:W. A dense layer after an image flattens it (as nn.Flatten).
enum class LayerKind { dense, conv, deconv, residual, unflatten };
struct LayerSpec {
  LayerKind kind = LayerKind::dense;
  std::size_t out = 0;  // dense: features; conv, deconv: channels; residual: inner channels; unflatten: C
  std::size_t kernel = 0, stride = 1, padding = 0, output_padding = 0;  // conv, deconv
  std::size_t height = 0, width = 0;                                    // unflatten

  bool operator==(const LayerSpec&) const = default;
};

/// The network: encoder x -> layers... -> the family's latent parameters
/// (mu, log sigma^2 for the VAE); decoder z -> layers... -> likelihood
/// parameters. With `encoder` empty, the encoder is dense layers of the
/// `hidden` widths; with `decoder` empty, the decoder mirrors the encoder.
struct ModelConfig {
  /// The model family (src/model/families.cpp): "vae" (the paper's, a diagonal
  /// Gaussian q(z|x) and prior N(0, I)), "vae-2layer" (two stochastic layers,
  /// Burda et al. 2015), "cluster" and "vade" (a categorical y beside z:
  /// clustering VAEs), "cvae" (the conditional VAE, a given label y), "vq"
  /// (VQ-VAE's codebook) or "autoencoder" (a point z, no KL).
  std::string family = "vae";
  std::size_t input_dim = 784;
  std::vector<std::size_t> hidden = {500};  // encoder widths when `encoder` is empty; the decoder mirrors them
  std::vector<LayerSpec> encoder, decoder;  // declared layers (empty: see above)
  std::size_t latent = 20;  // z, what the decoder reads (z1 of a 2-layer model)
  /// The second stochastic layer z2 of the vae-2layer family (0 for the
  /// others): q(z2|z1) and p(z1|z2) are MLPs through `top_hidden` (the
  /// generative one mirrored) to diagonal Gaussians; p(z2) = N(0, I).
  std::size_t top_latent = 0;
  std::vector<std::size_t> top_hidden;
  /// The cluster family's K (0 for the others): p(y) = 1/K, p(z|y) =
  /// N(m_y, I), and a classifier q(y|z), an MLP through `classifier_hidden`
  /// to a softmax over the K clusters.
  std::size_t clusters = 0;
  std::vector<std::size_t> classifier_hidden;
  /// The conditional VAE's label classes K (the cvae family; 0 for the
  /// others): q(z|x, y) reads the one-hot label after x's values, and
  /// p(x|z, y) reads it after z. The data rows such a model reads are then
  /// input_dim + classes wide, the label last (model_row_width;
  /// DataRows::classes appends it when minibatches are gathered).
  std::size_t classes = 0;
  /// The vq family's codebook (codes = 0 for the others); `latent` is then
  /// the quantized grid's size, dim x positions, channel-major as the
  /// encoder's head writes it (docs/vq-vae.md).
  CodebookConfig codebook;
  Activation activation = Activation::tanh;
  float leaky_slope = 0.01f;                // for leaky_relu
  Likelihood likelihood = Likelihood::bernoulli;
  bool sigmoid_mean = true;                 // Gaussian mean through a sigmoid, data in (0,1)
  float fixed_variance = 1.0f;              // c, for gaussian_fixed
  Init init = Init::paper;
  std::size_t image_height = 0, image_width = 0;  // 0: not images (figures and conv layers need them)
  std::size_t image_channels = 1;                 // planar (NCHW) rows: channels * height * width = input_dim
  /// Full VB (App. F): a diagonal Gaussian q(theta) = N(mu, sigma^2) over
  /// every decoder parameter, the tensor T holding mu and T_log_sigma beside
  /// it log sigma; trained by --algorithm full-vb, evaluated by averaging over
  /// theta ~ q(theta). The encoder's parameters stay point estimates.
  bool weight_posterior = false;
  /// The generative model p(z) p(x|z) alone, without an encoder q(z|x): what
  /// Monte Carlo EM (App. E) trains. Its posterior is reached by HMC only
  /// (aevb eval --hmc); encoding, the bound and importance sampling refuse it.
  /// The encoder's layers (or `hidden`) still declare the mirrored decoder.
  bool decoder_only = false;

  bool operator==(const ModelConfig&) const = default;
};

/// Values per data row that a model of `config` reads: input_dim, and after
/// them the one-hot label of a conditional model (ModelConfig::classes).
inline std::size_t model_row_width(const ModelConfig& config) { return config.input_dim + config.classes; }

/// Which bound the gradient follows. samples = L for A/B, k for iw.
struct ObjectiveConfig {
  Estimator estimator = Estimator::B;
  std::size_t samples = 1;
  float beta = 1.0f;  // KL weight; 1 is the true bound (A and B only)

  bool operator==(const ObjectiveConfig&) const = default;
};

/// How the step size changes over training: OptimizerConfig::lr times a
/// factor of the epoch (fractional: steps / steps per epoch), so that a
/// schedule means the same at any batch size (src/optim/lr_schedule.hpp).
enum class LrScheduleKind { constant, step, exponential, cosine, burda };
struct LrSchedule {
  LrScheduleKind kind = LrScheduleKind::constant;
  double every = 0;        // step: epochs between decays
  double gamma = 0.1;      // step: factor per decay; exponential: factor per epoch
  double epochs = 0;       // cosine: epochs from lr down to min_factor * lr, then constant
  double min_factor = 0;   // cosine

  bool operator==(const LrSchedule&) const = default;
};

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::adagrad;
  float lr = 0.02f;
  LrSchedule schedule;
  /// Linear warm-up on top of any schedule: the step size is multiplied by
  /// t / lr_warmup_steps at optimizer step t = 1 .. lr_warmup_steps.
  std::uint64_t lr_warmup_steps = 0;
  float momentum = 0.9f;                  // sgd
  float beta1 = 0.9f, beta2 = 0.999f;     // adam
  float eps = 1e-8f;                      // adam; adagrad uses 1e-10 as PyTorch does
  /// Gaussian prior N(0, 1/(N*weight_decay)) on every parameter (MAP, sec. 5),
  /// written per datapoint: loss += weight_decay/2 * |theta|^2. 1/N is N(0, I).
  float weight_decay = 0.0f;
  float clip_norm = 0.0f;                 // 0: no clipping of the gradient norm

  bool operator==(const OptimizerConfig&) const = default;
};

struct TrainConfig {
  /// The training algorithm (src/train/algorithm.hpp): "aevb" (Algorithm 1),
  /// "wake-sleep", "rws" (reweighted wake-sleep with K = objective.samples),
  /// "full-vb" (App. F) or "mcem" (Monte Carlo EM, App. E).
  std::string algorithm = "aevb";
  /// What trains rws's encoder: "wake" (q-wake on the data), "sleep" (on
  /// dreams, as wake-sleep) or "both" (their mean).
  std::string rws_q = "wake";
  /// N, the training set's size: full VB weighs KL(q(theta) || p(theta)) by
  /// 1/N per datapoint (App. F, eq. 24 divided by N), and Monte Carlo EM
  /// keeps one chain per datapoint. 0: not known.
  std::size_t datapoints = 0;
  ObjectiveConfig objective;
  OptimizerConfig optimizer;
  std::size_t batch = 100;  // M
  std::uint64_t seed = 1;
  /// KL warm-up (Bowman et al. 2016, Sonderby et al. 2016): the KL weight
  /// grows linearly from beta/warmup to beta over the first warmup steps.
  std::uint64_t kl_warmup_steps = 0;
  MatmulPrecision matmul_precision = MatmulPrecision::float32;
  /// The minibatch is cut into this many shards of consecutive rows, each
  /// one's gradient computed alone and the shards added in shard order
  /// (docs/distributed.md): the parameters depend on the shards, never on how
  /// many processes share them. 1: the whole minibatch at once.
  std::size_t shards = 1;

  bool operator==(const TrainConfig&) const = default;
};

/// Per-datapoint values in nats. reconstruction = E_q log p(x|z); kl =
/// KL(q||p), analytic for B, the Monte Carlo mean of log q - log p for A and
/// iw. bound is the true bound whatever beta: reconstruction - kl for A and B
/// (beta only weights the gradient's KL term), L_k for iw.
struct Bound {
  double bound = 0, reconstruction = 0, kl = 0;
};

std::string_view to_string(Activation);
std::string_view to_string(Likelihood);
std::string_view to_string(Estimator);
std::string_view to_string(Init);
std::string_view to_string(OptimizerKind);
std::string_view to_string(MatmulPrecision);
std::string_view to_string(CodebookUpdate);
/// "conv:32:4:2:1,conv:64:4:2:1,dense:256": the declaration syntax above.
std::string to_string(const std::vector<LayerSpec>& layers);
std::string to_string(const LayerSpec& layer);
/// Parses that syntax; throws InputError naming `what` and the bad item.
std::vector<LayerSpec> parse_layers(std::string_view text, std::string_view what);
/// Parse the names printed by to_string; throws InputError naming `what`.
Activation parse_activation(std::string_view name);
Likelihood parse_likelihood(std::string_view name);
Estimator parse_estimator(std::string_view name);
Init parse_init(std::string_view name);
OptimizerKind parse_optimizer(std::string_view name);
MatmulPrecision parse_matmul_precision(std::string_view name);
CodebookUpdate parse_codebook_update(std::string_view name);

/// Throws InputError on an inconsistent config (zero sizes, beta with iw...).
void validate(const ModelConfig&);
void validate(const ObjectiveConfig&);
void validate(const OptimizerConfig&);

}  // namespace aevb
