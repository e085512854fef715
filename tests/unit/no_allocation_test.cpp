// A steady-state training step allocates nothing (issue 4; the design's "plan
// once, execute often"): after the first steps have planned the workspace,
// Trainer::step performs no operator new, on any thread.
//
// The global operator new/delete are replaced, for the whole test executable,
// by versions that count while g_counting is set. Only the tests below set it,
// so every other test sees plain malloc/free.
#include <aevb/vae.hpp>

#include "backend/cpu/gemm_bf16.hpp"
#include "core/param_layout.hpp"
#include "core/rng.hpp"
#include "model/engine.hpp"
#include "model/posterior_target.hpp"
#include "nn/conv.hpp"
#include "prob/hmc.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <ostream>
#include <new>
#include <vector>

// The replacements below pair operator new with malloc and operator delete
// with free, which GCC 12 reports as mismatched once it inlines them.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {

std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};

void* counted_alloc(std::size_t size, std::size_t align = 0) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (size == 0) size = 1;
  void* p = nullptr;
  if (align > alignof(std::max_align_t)) {
    // aligned_alloc needs a size that is a multiple of the alignment.
    p = std::aligned_alloc(align, (size + align - 1) / align * align);
  } else {
    p = std::malloc(size);
  }
  return p;
}

}  // namespace

void* operator new(std::size_t size) {
  if (void* p = counted_alloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = counted_alloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t align) {
  if (void* p = counted_alloc(size, static_cast<std::size_t>(align))) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t align) {
  if (void* p = counted_alloc(size, static_cast<std::size_t>(align))) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return counted_alloc(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return counted_alloc(size); }
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return counted_alloc(size, static_cast<std::size_t>(align));
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return counted_alloc(size, static_cast<std::size_t>(align));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace aevb {
namespace {

// Counts operator new calls on every thread while alive.
class CountAllocations {
 public:
  CountAllocations() {
    g_allocations = 0;
    g_counting = true;
  }
  ~CountAllocations() { g_counting = false; }
  long count() const { return g_allocations.load(); }
};

struct Case {
  const char* name;
  Activation activation;
  std::vector<std::size_t> hidden;
  Likelihood likelihood;
  Estimator estimator;
  std::size_t samples;
  OptimizerKind optimizer;
  float clip_norm;
  MatmulPrecision precision = MatmulPrecision::float32;
  const char* encoder = "";  // declared layers on 1 x 28 x 28 images ("": the MLP `hidden`)
  const char* family = "vae";
  const char* algorithm = "aevb";  // full-vb also gives the model its weight posterior
};

// gtest prints a parameter with this instead of its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class NoAllocation : public ::testing::TestWithParam<Case> {};

TEST_P(NoAllocation, SteadyStateTrainingStep) {
  const Case& c = GetParam();
  if (c.precision == MatmulPrecision::bfloat16 && !backend::bf16_products_available()) GTEST_SKIP() << "no bfloat16 kernel here";
  set_threads(2);
  ModelConfig model;
  model.input_dim = 784;
  model.hidden = c.hidden;
  model.latent = 20;
  model.activation = c.activation;
  model.likelihood = c.likelihood;
  model.family = c.family;
  if (model.family == "cluster") model.clusters = 10, model.classifier_hidden = {32};
  if (model.family == "vade") model.clusters = 10;
  if (model.family == "cvae") model.classes = 10;
  if (model.family == "vae-2layer") model.top_latent = 8, model.top_hidden = {16};
  if (model.family == "vq") model.latent = 4 * 7 * 7, model.codebook.codes = 32, model.codebook.dim = 4;
  model.image_height = model.image_width = 28;
  if (*c.encoder) model.encoder = parse_layers(c.encoder, "test");
  model.weight_posterior = std::string(c.algorithm) == "full-vb";
  Vae vae(model, 1);
  TrainConfig train;
  train.algorithm = c.algorithm;
  train.datapoints = 1000;
  train.batch = 100;
  train.objective = {c.estimator, c.samples, 1.0f};
  train.optimizer.kind = c.optimizer;
  train.optimizer.lr = 1e-3f;
  train.optimizer.clip_norm = c.clip_norm;
  train.matmul_precision = c.precision;
  Trainer trainer(vae, train);
  const std::size_t width = model_row_width(model);  // a conditional model's rows end with the label
  std::vector<float> x(train.batch * width);
  fill_uniform(x.data(), x.size(), 3, 0);
  // The first steps plan the workspace and start the thread pool.
  for (int i = 0; i < 2; ++i) trainer.step({x.data(), train.batch, width});
  long allocations = 0;
  {
    const CountAllocations counter;
    for (int i = 0; i < 3; ++i) {
      trainer.step({x.data(), train.batch, width});
      trainer.step({x.data(), 37, width});  // a smaller last batch reuses the plan
    }
    allocations = counter.count();
  }
  set_threads(0);
  EXPECT_EQ(allocations, 0) << c.name << ": operator new called in steady-state training steps";
}

INSTANTIATE_TEST_SUITE_P(
    Models, NoAllocation,
    ::testing::Values(Case{"peer", Activation::relu, {400}, Likelihood::bernoulli, Estimator::B, 1, OptimizerKind::adam, 0},
                      Case{"paper", Activation::tanh, {500}, Likelihood::bernoulli, Estimator::B, 1,
                           OptimizerKind::adagrad, 0},
                      Case{"estimator_a", Activation::softplus, {64, 32}, Likelihood::gaussian, Estimator::A, 3,
                           OptimizerKind::sgd, 1.0f},
                      Case{"iw", Activation::leaky_relu, {64}, Likelihood::gaussian_fixed, Estimator::iw, 5,
                           OptimizerKind::adam, 0},
                      Case{"peer_bfloat16", Activation::relu, {400}, Likelihood::bernoulli, Estimator::B, 1,
                           OptimizerKind::adam, 0, MatmulPrecision::bfloat16},
                      Case{"conv_mnist", Activation::relu, {}, Likelihood::bernoulli, Estimator::B, 1,
                           OptimizerKind::adam, 0, MatmulPrecision::float32, "conv:32:4:2:1,conv:64:4:2:1,dense:128"},
                      Case{"conv_residual_gaussian", Activation::tanh, {}, Likelihood::gaussian, Estimator::iw, 2,
                           OptimizerKind::adagrad, 0, MatmulPrecision::float32, "conv:8:4:2:1,residual:4,dense:32"},
                      Case{"autoencoder", Activation::relu, {200}, Likelihood::bernoulli, Estimator::B, 1,
                           OptimizerKind::adam, 0, MatmulPrecision::float32, "", "autoencoder"},
                      Case{"wake_sleep", Activation::tanh, {200}, Likelihood::bernoulli, Estimator::B, 1,
                           OptimizerKind::adagrad, 0, MatmulPrecision::float32, "", "vae", "wake-sleep"},
                      Case{"rws_gaussian", Activation::tanh, {64}, Likelihood::gaussian, Estimator::B, 3,
                           OptimizerKind::adam, 0, MatmulPrecision::float32, "", "vae", "rws"},
                      Case{"full_vb", Activation::tanh, {200}, Likelihood::bernoulli, Estimator::B, 1,
                           OptimizerKind::adam, 0, MatmulPrecision::float32, "", "vae", "full-vb"},
                      Case{"two_layer", Activation::tanh, {200}, Likelihood::bernoulli, Estimator::B, 1,
                           OptimizerKind::adam, 0, MatmulPrecision::float32, "", "vae-2layer"},
                      Case{"cluster", Activation::relu, {200}, Likelihood::bernoulli, Estimator::B, 2,
                           OptimizerKind::adam, 0, MatmulPrecision::float32, "", "cluster"},
                      Case{"vade", Activation::relu, {200}, Likelihood::bernoulli, Estimator::B, 2,
                           OptimizerKind::adam, 0, MatmulPrecision::float32, "", "vade"},
                      Case{"cvae", Activation::relu, {200}, Likelihood::bernoulli, Estimator::iw, 3,
                           OptimizerKind::adam, 0, MatmulPrecision::float32, "", "cvae"},
                      // Moving averages and restarts: what the family gathers per step reuses its buffers.
                      Case{"vq", Activation::relu, {}, Likelihood::gaussian_fixed, Estimator::B, 1,
                           OptimizerKind::adam, 0, MatmulPrecision::float32, "conv:8:4:2:1,conv:16:4:2:1", "vq"}),
    [](const ::testing::TestParamInfo<Case>& param) { return std::string(param.param.name); });

// The convolutional layers (src/nn/conv.hpp) on their own, until the engine
// builds conv models: once plan() has sized their scratch, forward and
// backward allocate nothing, at the planned batch or a smaller one.
TEST(NoAllocation, ConvLayersAfterPlan) {
  set_threads(2);
  const auto spec = [](LayerKind kind, std::size_t out) {
    LayerSpec s;
    s.kind = kind;
    s.out = out;
    s.kernel = 4;
    s.stride = 2;
    s.padding = 1;
    return s;
  };
  ParamLayout layout;
  std::vector<std::unique_ptr<Layer<float>>> layers;
  layers.push_back(std::make_unique<Conv2d<float>>(layout, "e0", Shape{1, 28, 28}, spec(LayerKind::conv, 32),
                                                   Act::relu, 0.0f));
  layers.push_back(std::make_unique<Residual<float>>(layout, "e1", Shape{32, 14, 14}, spec(LayerKind::residual, 8),
                                                     Act::relu, 0.0f));
  layers.push_back(std::make_unique<ConvTranspose2d<float>>(layout, "d0", Shape{32, 14, 14},
                                                            spec(LayerKind::deconv, 1), Act::identity, 0.0f));
  std::vector<float> params(layout.total()), grads(layout.total());
  fill_normal(params.data(), params.size(), 1, 0);
  std::vector<std::vector<float>> x, y, dy, dx;
  for (const auto& l : layers) {
    l->plan(100);
    x.emplace_back(100 * l->in_shape().size(), 0.5f);
    dx.emplace_back(100 * l->in_shape().size());
    y.emplace_back(100 * l->out_shape().size());
    dy.emplace_back(100 * l->out_shape().size(), 1.0f);
  }
  const auto pass = [&](std::size_t rows) {
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const std::size_t in = layers[i]->in_shape().size(), out = layers[i]->out_shape().size();
      layers[i]->forward(params.data(), {x[i].data(), rows, in}, {y[i].data(), rows, out});
      layers[i]->backward(params.data(), grads.data(), {x[i].data(), rows, in}, {y[i].data(), rows, out},
                          {dy[i].data(), rows, out}, {i == 0 ? nullptr : dx[i].data(), rows, in},
                          i == 1 ? GradMode::accumulate : GradMode::overwrite);
    }
  };
  pass(100);  // starts the thread pool
  long allocations = 0;
  {
    const CountAllocations counter;
    pass(100);
    pass(37);
    allocations = counter.count();
  }
  set_threads(0);
  EXPECT_EQ(allocations, 0) << "operator new called in a planned conv forward/backward";
}

// HMC on p(z|x) (src/prob/hmc.hpp over Engine::log_joint_grad, as the App.
// D estimator and MCEM run it): once the first transition has planned the
// sampler and the engine, transitions allocate nothing, adapting or not.
TEST(NoAllocation, HmcTransitionsAfterTheFirst) {
  set_threads(2);
  ModelConfig model;
  model.input_dim = 784;
  model.hidden = {100};
  model.latent = 3;
  Engine<float> engine(model);
  engine.initialize(1);
  const std::size_t chains = 200, d = model.latent;
  std::vector<float> x(chains * model.input_dim), z(chains * d), grad(chains * d), log_joint(chains);
  fill_uniform(x.data(), x.size(), 2, 0);
  fill_normal(z.data(), z.size(), 3, 0);
  std::vector<double> step(chains, 0.1);
  std::vector<std::uint64_t> id(chains);
  for (std::size_t c = 0; c < chains; ++c) id[c] = c;
  const HmcChains<float> batch{{z.data(), chains, d}, log_joint.data(), {grad.data(), chains, d}, step.data(), id.data()};
  PosteriorTarget<float> target(engine, {x.data(), chains, model.input_dim});
  target.log_density_grad(batch.z, log_joint.data(), batch.grad);
  Hmc<float> hmc(d, HmcOptions{});
  hmc.transition(target, batch, 1, 0, true);
  long allocations = 0;
  {
    const CountAllocations counter;
    for (std::uint64_t t = 1; t < 4; ++t) hmc.transition(target, batch, 1, t, t < 2);
    allocations = counter.count();
  }
  set_threads(0);
  EXPECT_EQ(allocations, 0) << "operator new called in a planned HMC transition";
}

// The counter itself works (a test of the test).
TEST(NoAllocation, CounterSeesAnAllocation) {
  long allocations = 0;
  {
    const CountAllocations counter;
    // Both escape through volatile pointers: the compiler may elide a
    // new/delete pair it can see through, and did once the file changed.
    std::vector<int>* volatile p = new std::vector<int>(10);
    delete p;
    void* volatile raw = ::operator new(64);
    ::operator delete(raw);
    allocations = counter.count();
  }
  EXPECT_GE(allocations, 2);
}

}  // namespace
}  // namespace aevb
