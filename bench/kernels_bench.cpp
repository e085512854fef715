// Kernel-level benchmarks (Google Benchmark): each fused kernel's fast path
// against its reference, at the peer model's shapes (batch 128, 784-400-20)
// and the IW evaluation's (5000 samples of one datapoint), plus the GEMMs,
// the optimizer loops and the RNG. Items/s are elements (or parameters, or
// normals) per second; GEMMs report FLOP/s.
//
// usage: kernels_bench [--threads=N] [Google Benchmark flags, e.g.
//        --benchmark_filter=Likelihood --benchmark_min_time=0.2]
#include <aevb/vae.hpp>

#include "backend/gemm.hpp"
#include "core/rng.hpp"
#include "nn/activation.hpp"
#include "optim/optimizer.hpp"
#include "prob/gaussian_posterior.hpp"
#include "prob/likelihood.hpp"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace aevb;

std::vector<float> normals(std::size_t n, std::uint64_t seed, float scale) {
  std::vector<float> v(n);
  fill_normal(v.data(), n, seed, 0);
  for (float& x : v) x *= scale;
  return v;
}

// ---- Activations: bias + activation forward, activation' + bias gradient backward.

template <bool Fast>
void BM_ActivationForward(benchmark::State& state) {
  const auto act = static_cast<Act>(state.range(0));
  const std::size_t rows = 128, cols = static_cast<std::size_t>(state.range(1));
  const std::vector<float> pre = normals(rows * cols, 1, 2.0f), bias = normals(cols, 2, 1.0f);
  std::vector<float> y = pre;
  for (auto _ : state) {
    if constexpr (Fast) {
      bias_activation_forward<float>({y.data(), rows, cols}, bias.data(), act, 0.01f);
    } else {
      reference::bias_activation_forward<float>({y.data(), rows, cols}, bias.data(), act, 0.01f);
    }
    benchmark::DoNotOptimize(y.data());
    state.PauseTiming();
    y = pre;
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows * cols));
}

template <bool Fast>
void BM_ActivationBackward(benchmark::State& state) {
  const auto act = static_cast<Act>(state.range(0));
  const std::size_t rows = 128, cols = static_cast<std::size_t>(state.range(1));
  std::vector<float> y = normals(rows * cols, 1, 0.5f), db(cols);
  const std::vector<float> upstream = normals(rows * cols, 2, 1.0f);
  std::vector<float> dy = upstream;
  bias_activation_forward<float>({y.data(), rows, cols}, db.data(), act, 0.01f);  // outputs in the activation's range
  for (auto _ : state) {
    // Fresh dy each time: multiplying it in place again and again would make it subnormal.
    state.PauseTiming();
    dy = upstream;
    state.ResumeTiming();
    if constexpr (Fast) {
      activation_backward<float>({dy.data(), rows, cols}, {y.data(), rows, cols}, act, 0.01f, db.data());
    } else {
      reference::activation_backward<float>({dy.data(), rows, cols}, {y.data(), rows, cols}, act, 0.01f, db.data());
    }
    benchmark::DoNotOptimize(dy.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows * cols));
}

void activation_args(benchmark::internal::Benchmark* b) {
  for (Act a : {Act::relu, Act::tanh, Act::sigmoid, Act::softplus}) b->Args({static_cast<long>(a), 400});
  b->ArgNames({"act", "cols"});
}

BENCHMARK(BM_ActivationForward<true>)->Name("ActivationForward/fast")->Apply(activation_args);
BENCHMARK(BM_ActivationForward<false>)->Name("ActivationForward/reference")->Apply(activation_args);
BENCHMARK(BM_ActivationBackward<true>)->Name("ActivationBackward/fast")->Apply(activation_args);
BENCHMARK(BM_ActivationBackward<false>)->Name("ActivationBackward/reference")->Apply(activation_args);

// ---- Likelihood: value + gradient (training, 128 x 784), value only (IW, 5000 x 784).

template <bool Fast>
void BM_Likelihood(benchmark::State& state) {
  const auto kind = static_cast<Likelihood>(state.range(0));
  const std::size_t rows = static_cast<std::size_t>(state.range(1)), d = 784;
  const bool grad = state.range(2) != 0;
  const LikelihoodSpec spec{kind, true, 1.0, d};
  const std::size_t width = spec.output_width();
  const std::vector<float> out = normals(rows * width, 3, 3.0f), weight(rows, -1.0f / float(rows));
  std::vector<float> x(d), values(rows), dout(rows * width);
  fill_uniform(x.data(), d, 4, 0);
  for (auto _ : state) {
    if (Fast && grad) {
      log_likelihood_grad<float>(spec, {out.data(), rows, width}, {x.data(), 1, d}, rows, weight.data(), values.data(),
                                 {dout.data(), rows, width});
    } else if (Fast) {
      log_likelihood<float>(spec, {out.data(), rows, width}, {x.data(), 1, d}, rows, values.data());
    } else {
      reference::log_likelihood_grad<float>(spec, {out.data(), rows, width}, {x.data(), 1, d}, rows, weight.data(),
                                            values.data(), {grad ? dout.data() : nullptr, rows, width});
    }
    benchmark::DoNotOptimize(values.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows * d));
}

void likelihood_args(benchmark::internal::Benchmark* b) {
  b->Args({static_cast<long>(Likelihood::bernoulli), 128, 1});
  b->Args({static_cast<long>(Likelihood::bernoulli), 5000, 0});
  b->Args({static_cast<long>(Likelihood::gaussian), 128, 1});
  b->ArgNames({"kind", "rows", "grad"});
}

BENCHMARK(BM_Likelihood<true>)->Name("Likelihood/fast")->Apply(likelihood_args);
BENCHMARK(BM_Likelihood<false>)->Name("Likelihood/reference")->Apply(likelihood_args);

// ---- Reparameterization forward and backward (S samples of 128 datapoints, 20 latents).

void BM_Reparameterize(benchmark::State& state) {
  const std::size_t rows = 128, samples = static_cast<std::size_t>(state.range(0)), nz = 20, n = rows * samples;
  const std::vector<float> head = normals(rows * 2 * nz, 5, 1.0f), eps = normals(n * nz, 6, 1.0f);
  std::vector<float> z(n * nz), log_q(n), log_p(n), kl(rows), dz = normals(n * nz, 7, 1.0f), dhead(rows * 2 * nz);
  const std::vector<float> kw(rows, 1.0f / rows);
  for (auto _ : state) {
    reparameterize<float>({head.data(), rows, 2 * nz}, samples, eps.data(), {z.data(), log_q.data(), log_p.data(), kl.data()});
    reparameterize_backward<float>({head.data(), rows, 2 * nz}, samples, eps.data(), z.data(),
                                   {dz.data(), nullptr, kw.data()}, {dhead.data(), rows, 2 * nz});
    benchmark::DoNotOptimize(dhead.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n * nz));
}
BENCHMARK(BM_Reparameterize)->Arg(1)->Arg(40)->ArgName("samples");

// ---- GEMM through the backend (deterministic tiles on the pool).

void BM_Gemm(benchmark::State& state) {
  using backend::Trans;
  const auto ta = state.range(0) ? Trans::yes : Trans::no, tb = state.range(1) ? Trans::yes : Trans::no;
  const auto m = static_cast<std::size_t>(state.range(2)), n = static_cast<std::size_t>(state.range(3)),
             k = static_cast<std::size_t>(state.range(4));
  const std::vector<float> a = normals(m * k, 8, 1.0f), b = normals(k * n, 9, 1.0f);
  std::vector<float> c(m * n);
  const std::size_t lda = ta == Trans::no ? k : m, ldb = tb == Trans::no ? n : k;
  for (auto _ : state) {
    backend::gemm<float>(ta, tb, m, n, k, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["FLOP/s"] =
      benchmark::Counter(2.0 * double(m) * double(n) * double(k), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Gemm)
    ->ArgNames({"ta", "tb", "m", "n", "k"})
    ->Args({0, 1, 128, 400, 784})   // encoder forward
    ->Args({1, 0, 400, 784, 128})   // encoder dW
    ->Args({0, 1, 128, 784, 400})   // decoder output forward
    ->Args({0, 0, 128, 400, 784})   // decoder output dX
    ->Args({0, 1, 5000, 784, 400})  // IW: one datapoint's 5000 samples
    ->UseRealTime();

// ---- Optimizer and the finiteness check over the peer model's 652,824 parameters.

void BM_Optimizer(benchmark::State& state) {
  const std::size_t n = 652824;
  OptimizerConfig c;
  c.kind = static_cast<OptimizerKind>(state.range(0));
  c.lr = 1e-3f;
  Optimizer<float> opt(c, n);
  std::vector<float> p = normals(n, 10, 0.1f);
  const std::vector<float> g = normals(n, 11, 0.01f);
  std::uint64_t step = 0;
  for (auto _ : state) {
    opt.apply(p.data(), g.data(), ++step);
    benchmark::DoNotOptimize(p.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_Optimizer)->Arg(static_cast<long>(OptimizerKind::adam))->Arg(static_cast<long>(OptimizerKind::adagrad))
    ->ArgName("kind")->UseRealTime();

void BM_AllFinite(benchmark::State& state) {
  const std::vector<float> g = normals(652824, 12, 0.01f);
  for (auto _ : state) benchmark::DoNotOptimize(all_finite(g.data(), g.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * g.size()));
}
BENCHMARK(BM_AllFinite)->UseRealTime();

// ---- RNG: the training step's eps (128 x 20) and one IW datapoint's (5000 x 20).

void BM_FillNormal(benchmark::State& state) {
  std::vector<float> v(static_cast<std::size_t>(state.range(0)));
  std::uint64_t i = 0;
  for (auto _ : state) {
    fill_normal(v.data(), v.size(), 1, rng_stream(RngPurpose::eps, i++));
    benchmark::DoNotOptimize(v.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * v.size()));
}
BENCHMARK(BM_FillNormal)->Arg(128 * 20)->Arg(5000 * 20)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0) {
      threads = std::atoi(argv[i] + 10);
    } else {
      rest.push_back(argv[i]);
    }
  }
  aevb::set_threads(threads);
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  if (benchmark::ReportUnrecognizedArguments(n, rest.data())) return 1;
  benchmark::AddCustomContext("aevb_threads", std::to_string(threads));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
