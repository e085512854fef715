// aevb_bench: the whole-program benchmark of issue 4, in one run.
//
//   sgemm      this machine's SGEMM GFLOP/s at a large square size (OpenBLAS
//              with its own threads, best of 7 timings: the "machine rate" a
//              step is held to; the median is reported beside it), and
//              at the training step's shapes, both through OpenBLAS's own
//              threading and through aevb's backend::gemm (fixed tiles on
//              aevb's pool, for results independent of the thread count)
//   train/peer the PyTorch example model: 784-400-20 ReLU, Bernoulli on grey
//              MNIST, estimator B with L = 1, Adam 1e-3, batch 128
//   train/paper the paper's MNIST model: 784-500-20 tanh, Adagrad 0.02 with the
//              N(0, I) prior as weight decay, M = 100,
//              dynamically binarized MNIST (Kingma & Welling 2013, sec. 5)
//   train/paper_ws   the paper's model trained by wake-sleep (--algorithm
//              wake-sleep, the paper's baseline), timed beside AEVB: its rate
//              over train/paper's says what the baseline costs per sample
//   train/peer_bf16  the peer model with matmul_precision bfloat16, on the
//              kernel aevb picks (AMX, else AVX512-BF16; only where the CPU
//              has one of them)
//   train/peer_bf16_avx512  the same forced onto the AVX512-BF16 kernel, on
//              a machine that has it beside AMX
//   iw         log p(x) by importance sampling, k = 5000, on MNIST test images
//              (the peer model's architecture)
//   iw_bf16, iw_bf16_avx512  the same with bfloat16 products (as above)
//   train/conv the conv-mnist preset (docs/architectures.md): encoder
//              conv:32:4:2:1,conv:64:4:2:1,dense:128, the mirrored decoder,
//              ReLU, He init, Adam 1e-3, M = 100, dynamically binarized MNIST;
//              --conv-steps steps per repeat (PyTorch peer: bench/torch_conv_vae.py)
//
// Training throughput is the median over repeats of whole epochs (or of a
// fixed number of steps with --steps), including the minibatch gather (uint8
// -> float, binarization), as the PyTorch peer includes its indexing. Each
// section runs in a child process so that its peak RSS is its own.
//
// FLOPs (the convention): a forward pass costs 2 * sum(in * out) per
// sample over every dense layer; a training step 3x that (backward ~2x
// forward). The first layer's dL/dx is never computed, so the step does ~4%
// fewer FLOPs than counted for these models: the reported rate is nominal.
// The conv model's step is counted layer by layer instead (conv_step): each
// dense, conv and deconv layer's forward product, its weight gradient (the
// same count) and its input gradient (the same count, but not for the
// first layer, whose dL/dx is never computed); a conv of output [O, h, w]
// from C channels costs 2 O h w C k^2, a deconv from [C, h, w] to O channels
// 2 C h w O k^2 (the same product, transposed). Bias adds, activations,
// im2col / col2im copies and the optimizer are not counted.
//
// The first lines name the CPU (model name, family and model numbers), the
// instruction sets the products can use, which product paths run (OpenBLAS's
// float32 kernels by name, the bfloat16 kernel) and one core's measured peak
// for each instruction (bench/instruction_peaks.hpp).
//
// usage: aevb_bench [--threads N] [--repeats R] [--steps S] [--iw-images N]
//                   [--iw-k K] [--gemm-size N] [--conv-steps S] [--only SECTION] [--json PATH]
#include <aevb/data.hpp>
#include <aevb/vae.hpp>

#include "instruction_peaks.hpp"

#include "backend/cpu/gemm_bf16.hpp"
#include "backend/gemm.hpp"
#include "core/rng.hpp"
#include "model/architecture.hpp"
#include "train/run_settings.hpp"

#include <cblas.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int threads = 2;
  int repeats = 5;
  std::size_t steps = 0;  // 0: one epoch per repeat
  std::size_t iw_images = 1000;
  std::size_t iw_k = 5000;
  std::size_t gemm_size = 2048;
  std::size_t conv_steps = 100;  // the conv model's steps per repeat (0: one epoch)
  std::string only;
  std::string json = "build/bench/aevb.json";
};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n == 0 ? 0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

// A flat JSON object of numbers and strings, built by hand (the bench links
// nothing but aevb).
class JsonObject {
 public:
  void num(const std::string& key, double v) {
    std::ostringstream s;
    s.precision(6);
    s << v;
    fields_.push_back("\"" + key + "\": " + (std::isfinite(v) ? s.str() : "null"));
  }
  void str(const std::string& key, const std::string& v) { fields_.push_back("\"" + key + "\": \"" + v + "\""); }
  void raw(const std::string& key, const std::string& v) { fields_.push_back("\"" + key + "\": " + v); }
  std::string text() const {
    std::string out = "{";
    for (std::size_t i = 0; i < fields_.size(); ++i) out += (i ? ", " : "") + fields_[i];
    return out + "}";
  }

 private:
  std::vector<std::string> fields_;
};

std::vector<std::filesystem::path> data_dirs() { return {std::filesystem::path(AEVB_SOURCE_DIR) / ".." / "shared" / "data"}; }

// Dense layers (in, out) of a VAE in forward order: encoder then decoder.
struct Shapes {
  std::vector<std::pair<std::size_t, std::size_t>> encoder, decoder;
  double forward_flops() const {  // per sample
    double f = 0;
    for (auto [i, o] : encoder) f += 2.0 * double(i) * double(o);
    for (auto [i, o] : decoder) f += 2.0 * double(i) * double(o);
    return f;
  }
  double decoder_flops() const {
    double f = 0;
    for (auto [i, o] : decoder) f += 2.0 * double(i) * double(o);
    return f;
  }
};

Shapes shapes_of(const aevb::ModelConfig& m) {
  Shapes s;
  std::size_t in = m.input_dim;
  for (std::size_t h : m.hidden) {
    s.encoder.emplace_back(in, h);
    in = h;
  }
  s.encoder.emplace_back(in, 2 * m.latent);
  in = m.latent;
  for (std::size_t i = m.hidden.size(); i-- > 0;) {
    s.decoder.emplace_back(in, m.hidden[i]);
    in = m.hidden[i];
  }
  s.decoder.emplace_back(in, m.likelihood == aevb::Likelihood::gaussian ? 2 * m.input_dim : m.input_dim);
  return s;
}

aevb::ModelConfig peer_model() {
  aevb::ModelConfig m;
  m.hidden = {400};
  m.latent = 20;
  m.activation = aevb::Activation::relu;
  m.init = aevb::Init::he;
  return m;
}

aevb::ModelConfig paper_model() {
  aevb::ModelConfig m;  // the defaults are the paper's: 784-500-20, tanh, N(0, 0.01)
  m.hidden = {500};
  return m;
}

// What a training step of a layer-declared network costs per sample: FLOPs
// as counted at the top of the file, and the floats the step keeps per
// sample (each layer's output and its gradient, a residual block's inner
// activation, the im2col columns of each conv and deconv).
struct StepCount {
  double flops = 0, activations = 0;
  std::string layers;  // "name fwd-MFLOP" list, for the printout
};

StepCount conv_step(const aevb::ModelConfig& m) {
  using aevb::LayerKind;
  using aevb::LayerSpec;
  StepCount c;
  struct Dims {
    std::size_t c = 0, h = 0, w = 0;  // h = w = 0: a flat vector of c values
    double size() const { return double(c) * double(h ? h : 1) * double(w ? w : 1); }
  };
  bool first = true;
  // One product of `fwd` FLOPs (and its two gradients) giving `out` floats,
  // reading `cols` im2col floats.
  auto product = [&](const std::string& name, double fwd, double out, double cols) {
    c.flops += fwd * (first ? 2 : 3);
    c.activations += 2 * out + cols;
    c.layers += (c.layers.empty() ? "" : ", ") + name + " " + std::to_string(int(fwd / 1e3 + 0.5)) + "k";
    first = false;
  };
  auto run = [&](const std::string& net, Dims d, const std::vector<LayerSpec>& layers, std::size_t heads_at) {
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const LayerSpec& l = layers[i];
      const double copies = i == heads_at ? (m.likelihood == aevb::Likelihood::gaussian ? 2 : 1) : 1;
      const std::string name = net + "." + std::to_string(i);
      const double k2 = double(l.kernel) * double(l.kernel);
      switch (l.kind) {
        case LayerKind::dense: {
          const Dims o{l.out, 0, 0};
          product(name, copies * 2 * d.size() * double(l.out), copies * o.size(), 0);
          d = o;
          break;
        }
        case LayerKind::conv: {
          const Dims o{l.out, (d.h + 2 * l.padding - l.kernel) / l.stride + 1,
                       (d.w + 2 * l.padding - l.kernel) / l.stride + 1};
          const double positions = double(o.h) * double(o.w);
          product(name, copies * 2 * double(l.out) * positions * double(d.c) * k2, copies * o.size(),
                  double(d.c) * k2 * positions);
          d = o;
          break;
        }
        case LayerKind::deconv: {
          const Dims o{l.out, (d.h - 1) * l.stride + l.kernel + l.output_padding - 2 * l.padding,
                       (d.w - 1) * l.stride + l.kernel + l.output_padding - 2 * l.padding};
          const double positions = double(d.h) * double(d.w);
          product(name, copies * 2 * double(d.c) * positions * double(l.out) * k2, copies * o.size(),
                  double(l.out) * k2 * positions);
          d = o;
          break;
        }
        case LayerKind::residual: {
          const double positions = double(d.h) * double(d.w);
          product(name + ".conv1", 2 * double(l.out) * positions * double(d.c) * 9, double(l.out) * positions,
                  double(d.c) * 9 * positions);
          product(name + ".conv2", 2 * double(d.c) * positions * double(l.out), d.size(), 0);
          break;
        }
        case LayerKind::unflatten: d = Dims{l.out, l.height, l.width}; break;
      }
    }
    return d;
  };
  const aevb::Shape in = aevb::data_shape(m);
  Dims d = run("encoder", Dims{in.channels, in.height, in.width}, aevb::encoder_layers(m), SIZE_MAX);
  const std::size_t head = m.family == "vae" ? 2 * m.latent : m.latent;
  product("encoder.head", 2 * d.size() * double(head), double(head), 0);
  const std::vector<LayerSpec> dec = aevb::decoder_layers(m);
  run("decoder", Dims{m.latent, 0, 0}, dec, dec.size() - 1);
  return c;
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

// ---------------------------------------------------------------- sgemm

// C = A B^T (forward), dW = dY^T X, dX = dY W: the three products of a dense layer.
struct GemmCase {
  std::string name;
  aevb::backend::Trans ta, tb;
  std::size_t m, n, k;
};

struct Rate {
  double median = 0, best = 0;
};

// Times `run` (one product of `flops`): GFLOP/s over `repeats` timings of
// about `min_seconds` each, their median and their best.
Rate time_product(const std::function<void()>& run, double flops, double min_seconds, int repeats) {
  run();
  auto t0 = Clock::now();
  std::size_t calls = 0;
  while (seconds_since(t0) < min_seconds / 4) {
    run();
    ++calls;
  }
  calls = std::max<std::size_t>(1, calls * 4);
  std::vector<double> rates;
  for (int r = 0; r < repeats; ++r) {
    t0 = Clock::now();
    for (std::size_t i = 0; i < calls; ++i) run();
    rates.push_back(flops * double(calls) / seconds_since(t0) / 1e9);
  }
  return {median(rates), *std::max_element(rates.begin(), rates.end())};
}

CBLAS_TRANSPOSE to_cblas(aevb::backend::Trans t) { return t == aevb::backend::Trans::yes ? CblasTrans : CblasNoTrans; }

// GFLOP/s of one shape through aevb's backend::gemm (deterministic tiles on
// aevb's pool) or, raw, through OpenBLAS's own threaded sgemm.
Rate time_gemm(const GemmCase& g, double min_seconds, int repeats, bool raw) {
  using aevb::backend::Trans;
  std::vector<float> a(g.m * g.k), b(g.k * g.n), c(g.m * g.n);
  aevb::fill_uniform(a.data(), a.size(), 1, 1);
  aevb::fill_uniform(b.data(), b.size(), 1, 2);
  const std::size_t lda = g.ta == Trans::no ? g.k : g.m, ldb = g.tb == Trans::no ? g.n : g.k;
  const double flops = 2.0 * double(g.m) * double(g.n) * double(g.k);
  const auto bi = [](std::size_t v) { return static_cast<blasint>(v); };
  if (raw)
    return time_product(
        [&] {
          cblas_sgemm(CblasRowMajor, to_cblas(g.ta), to_cblas(g.tb), bi(g.m), bi(g.n), bi(g.k), 1.0f, a.data(),
                      bi(lda), b.data(), bi(ldb), 0.0f, c.data(), bi(g.n));
        },
        flops, min_seconds, repeats);
  return time_product(
      [&] { aevb::backend::gemm<float>(g.ta, g.tb, g.m, g.n, g.k, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, c.data(), g.n); },
      flops, min_seconds, repeats);
}

std::string section_sgemm(const Options& o) {
  using aevb::backend::Trans;
  const std::size_t big = o.gemm_size, batch = 128;
  std::vector<GemmCase> cases = {{"square", Trans::no, Trans::no, big, big, big}};
  // The peer model's step: per layer forward (NT), dW (TN), dX (NN; never for the first layer).
  const Shapes s = shapes_of(peer_model());
  std::vector<std::pair<std::size_t, std::size_t>> layers = s.encoder;
  layers.insert(layers.end(), s.decoder.begin(), s.decoder.end());
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const auto [in, out] = layers[l];
    cases.push_back({"fwd", Trans::no, Trans::yes, batch, out, in});
    cases.push_back({"dW", Trans::yes, Trans::no, out, in, batch});
    if (l != 0) cases.push_back({"dX", Trans::no, Trans::no, batch, in, out});
  }
  // OpenBLAS's own threads first, in a process where aevb's pool has not run yet.
  openblas_set_num_threads(o.threads);
  std::vector<double> raw, ours;
  Rate large{};
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Rate r = time_gemm(cases[i], i == 0 ? 1.0 : 0.05, i == 0 ? std::max(o.repeats, 7) : o.repeats, true);
    if (i == 0) large = r;
    raw.push_back(r.median);
  }
  aevb::set_threads(o.threads);
  for (std::size_t i = 0; i < cases.size(); ++i)
    ours.push_back(time_gemm(cases[i], i == 0 ? 1.0 : 0.05, o.repeats, false).median);

  JsonObject j;
  std::printf("  %-38s %10s %10s\n", "sgemm GFLOP/s", "OpenBLAS", "aevb");
  std::printf("  %-38s %10.1f %10.1f   (OpenBLAS best of %d: %.1f)\n", ("square " + std::to_string(big) + "^3").c_str(),
              raw[0], ours[0], std::max(o.repeats, 7), large.best);
  // The machine's rate a step is held to: the best of the timings (a capability;
  // a busy neighbour only ever lowers a timing, and a lower rate would flatter the step).
  j.num("large_gflops", large.best);
  j.num("large_gflops_median", large.median);
  j.num("large_gflops_aevb_tiles", ours[0]);
  j.num("large_size", double(big));
  double flops = 0, seconds = 0, seconds_raw = 0;
  std::string list = "[";
  for (std::size_t i = 1; i < cases.size(); ++i) {
    const GemmCase& g = cases[i];
    const double f = 2.0 * double(g.m) * double(g.n) * double(g.k);
    flops += f;
    seconds += f / (ours[i] * 1e9);
    seconds_raw += f / (raw[i] * 1e9);
    char label[64];
    std::snprintf(label, sizeof label, "%-3s %4zu x %4zu x %4zu (%s%s)", g.name.c_str(), g.m, g.n, g.k,
                  g.ta == Trans::yes ? "T" : "N", g.tb == Trans::yes ? "T" : "N");
    std::printf("  %-38s %10.1f %10.1f\n", label, raw[i], ours[i]);
    std::ostringstream e;
    e << (list.size() > 1 ? ", " : "") << "{\"op\": \"" << g.name << "\", \"m\": " << g.m << ", \"n\": " << g.n
      << ", \"k\": " << g.k << ", \"gflops\": " << ours[i] << ", \"gflops_openblas\": " << raw[i] << "}";
    list += e.str();
  }
  const double step_rate = flops / seconds / 1e9, step_raw = flops / seconds_raw / 1e9;
  std::printf("  %-38s %10.1f %10.1f\n", "the peer step's products together", step_raw, step_rate);
  j.raw("shapes", list + "]");
  j.num("step_shapes_gflops", step_rate);
  j.num("step_shapes_gflops_openblas", step_raw);
  j.num("peak_rss_mib", peak_rss_mib());
  return j.text();
}

// ---------------------------------------------------------------- training

struct TrainCase {
  std::string name;
  aevb::ModelConfig model;
  aevb::TrainConfig train;
  aevb::Binarize binarize;
  std::size_t steps = 0;  // per repeat; 0: --steps
};

// The bfloat16 kernel that runs (what a ScopedBf16Kernel forced, else aevb's pick).
const char* bf16_kernel_name() {
  return aevb::backend::bf16_kernel() == aevb::backend::Bf16Kernel::amx ? "AMX" : "AVX512-BF16";
}

// What a section's products ran on, for its JSON: the bfloat16 kernel or OpenBLAS's float32 kernels.
std::string products_ran_on(bool bf16) {
  return bf16 ? std::string(bf16_kernel_name()) : std::string("float32 OpenBLAS ") + openblas_get_corename();
}

std::string section_train(const Options& o, TrainCase tc) {
  const aevb::Dataset data = aevb::resolve_dataset("mnist", aevb::Split::train, data_dirs());
  if (!tc.model.encoder.empty()) {  // as `aevb train` does: the image shape from the data
    tc.model.input_dim = data.dim;
    tc.model.image_height = data.height;
    tc.model.image_width = data.width;
    tc.model.image_channels = 1;
  }
  aevb::Vae vae(tc.model, 1);
  aevb::Trainer trainer(vae, tc.train);
  const std::size_t batch = tc.train.batch, dim = data.dim;
  std::vector<std::uint32_t> order(data.count);
  std::vector<float> x(batch * dim);
  const std::size_t steps_per_epoch = (data.count + batch - 1) / batch;
  const std::size_t steps = tc.steps ? tc.steps : o.steps ? o.steps : steps_per_epoch;
  std::uint64_t epoch = 0;
  std::size_t cursor = steps_per_epoch;  // position in the current epoch, in batches
  double samples = 0, bound = 0;
  // One timed run: `steps` minibatches, continuing through epochs.
  auto run = [&](std::size_t n) {
    samples = 0;
    for (std::size_t s = 0; s < n; ++s) {
      if (cursor == steps_per_epoch) {
        aevb::shuffle_indices(order, tc.train.seed, epoch++);
        cursor = 0;
      }
      const std::size_t first = cursor * batch, rows = std::min(batch, data.count - first);
      aevb::gather_batch(data, std::span<const std::uint32_t>(order.data() + first, rows), tc.binarize,
                         tc.train.seed, epoch - 1, x.data());
      bound = trainer.step({x.data(), rows, dim}).bound;
      samples += double(rows);
      ++cursor;
    }
  };
  run(std::min<std::size_t>(steps, 20));  // warm-up: plans, page faults, thread pool
  std::vector<double> rates;
  for (int r = 0; r < o.repeats; ++r) {
    const auto t0 = Clock::now();
    run(steps);
    rates.push_back(samples / seconds_since(t0));
  }
  const double rate = median(rates);
  const bool layered = !tc.model.encoder.empty();
  const StepCount conv = layered ? conv_step(tc.model) : StepCount{};
  const double step_flops = layered ? conv.flops : 3.0 * shapes_of(tc.model).forward_flops();
  const double gflops = rate * step_flops / 1e9;
  // What the run must hold: the dataset, parameters, gradients, optimizer
  // moments and the activation workspace (each layer's output and gradient).
  const double p = double(vae.parameters().size());
  const double moments = double(trainer.optimizer_state().size());
  double activations = conv.activations * double(batch);
  if (!layered) {
    const Shapes s = shapes_of(tc.model);
    for (auto [i, out] : s.encoder) activations += 2.0 * double(out) * double(batch);
    for (auto [i, out] : s.decoder) activations += 2.0 * double(out) * double(batch);
  }
  activations += double(batch) * (3.0 * double(tc.model.latent) + double(dim) + 8);  // z, dz, eps, batch, terms
  const double needed_mib =
      (double(data.bytes.size()) + double(data.floats.size()) * 4 + 4 * (2 * p + moments + activations)) / 1048576.0;
  const double rss = peak_rss_mib();
  std::printf("  %-6s %9.0f samples/s  (%zu steps x %d, spread %.0f-%.0f)  %6.1f GFLOP/s  bound %.2f\n",
              tc.name.c_str(), rate, steps, o.repeats, *std::min_element(rates.begin(), rates.end()),
              *std::max_element(rates.begin(), rates.end()), gflops, bound);
  std::printf("         peak RSS %.1f MiB; dataset + parameters + gradients + moments + activations = %.1f MiB\n",
              rss, needed_mib);
  if (layered)
    std::printf("         step %.2f MFLOP per sample; forward per layer: %s\n", step_flops / 1e6, conv.layers.c_str());
  const bool bf16 = tc.train.matmul_precision == aevb::MatmulPrecision::bfloat16;
  if (bf16) std::printf("         products in bfloat16 on %s\n", bf16_kernel_name());
  JsonObject j;
  j.str("products", products_ran_on(bf16));
  j.num("samples_per_s", rate);
  j.num("samples_per_s_min", *std::min_element(rates.begin(), rates.end()));
  j.num("samples_per_s_max", *std::max_element(rates.begin(), rates.end()));
  j.num("steps", double(steps));
  j.num("repeats", o.repeats);
  j.num("batch", double(batch));
  j.num("step_gflop_per_sample", step_flops / 1e9);
  j.num("gflops", gflops);
  j.num("last_bound", bound);
  j.num("peak_rss_mib", rss);
  j.num("needed_mib", needed_mib);
  j.num("parameters", p);
  return j.text();
}

// ---------------------------------------------------------------- iw evaluation

std::string section_iw(const Options& o, aevb::MatmulPrecision precision, const char* label) {
  const aevb::backend::ScopedMatmulPrecision scope(precision);
  const bool bf16 = precision == aevb::MatmulPrecision::bfloat16;
  const aevb::Dataset data = aevb::resolve_dataset("mnist", aevb::Split::test, data_dirs());
  const std::size_t n = std::min(o.iw_images, data.count), dim = data.dim;
  std::vector<std::uint32_t> rows(n);
  for (std::size_t i = 0; i < n; ++i) rows[i] = static_cast<std::uint32_t>(i);
  std::vector<float> x(n * dim);
  aevb::gather_batch(data, rows, aevb::Binarize::none, 1, 0, x.data());
  const aevb::ModelConfig model = peer_model();
  aevb::Vae vae(model, 1);
  // Warm-up on a few images, then one timed pass over all n (it is long).
  (void)vae.log_likelihood({x.data(), std::min<std::size_t>(n, 2), dim}, o.iw_k, 7);
  const auto t0 = Clock::now();
  const std::vector<double> ll = vae.log_likelihood({x.data(), n, dim}, o.iw_k, 7);
  const double secs = seconds_since(t0);
  double mean = 0;
  for (double v : ll) mean += v / double(n);
  const Shapes s = shapes_of(model);
  double enc = 0;
  for (auto [i, out] : s.encoder) enc += 2.0 * double(i) * double(out);
  const double flops = double(n) * (enc + double(o.iw_k) * s.decoder_flops());
  const double rate = double(n) / secs;
  std::printf("  %-8s %9.2f images/s  (k = %zu, %zu images, %.1f s)  %6.1f GFLOP/s  mean log p(x) %.2f%s%s\n",
              label, rate, o.iw_k, n, secs, flops / secs / 1e9, mean, bf16 ? ", bfloat16 on " : "",
              bf16 ? bf16_kernel_name() : "");
  JsonObject j;
  j.str("products", products_ran_on(bf16));
  j.num("images_per_s", rate);
  j.num("images", double(n));
  j.num("k", double(o.iw_k));
  j.num("seconds", secs);
  j.num("gflops", flops / secs / 1e9);
  j.num("mean_log_likelihood", mean);
  j.num("peak_rss_mib", peak_rss_mib());
  return j.text();
}

// ---------------------------------------------------------------- driver

// Runs `body` in a child process (its own peak RSS; a crash is reported, not
// fatal) and returns the JSON it wrote to the pipe.
std::string in_child(const std::function<std::string()>& body) {
  int fds[2];
  if (pipe(fds) != 0) return "null";
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string out;
    try {
      out = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "aevb_bench: %s\n", e.what());
      out = "null";
    }
    std::fflush(stdout);
    const char* p = out.data();
    std::size_t left = out.size();
    while (left > 0) {
      const ssize_t w = write(fds[1], p, left);
      if (w <= 0) break;
      p += w;
      left -= static_cast<std::size_t>(w);
    }
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t r;
  while ((r = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(r));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return out.empty() ? "null" : out;
}

// The number after "key": in a flat JSON object (NaN when absent).
double json_number(const std::string& obj, const std::string& key) {
  const std::string needle = "\"" + key + "\": ";
  const std::size_t at = obj.find(needle);
  if (at == std::string::npos) return NAN;
  return std::strtod(obj.c_str() + at + needle.size(), nullptr);
}

// A field of the first processor in /proc/cpuinfo ("model name", "cpu family", "model").
std::string cpuinfo(const std::string& key) {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key, 0) == 0 && line.find(':') != std::string::npos && line.find(':') <= key.size() + 2)
      return line.substr(std::min(line.size(), line.find(':') + 2));
  return "unknown";
}

// Virtual machines often report a generic model name ("Intel(R) Xeon(R)
// Processor"): the family and model numbers tell the generation apart.
std::string cpu_model() {
  return cpuinfo("model name") + " (family " + cpuinfo("cpu family") + ", model " + cpuinfo("model") + ")";
}

// The instruction sets the products can use, as this process may use them.
std::string cpu_isa() {
  std::string isa;
  const auto add = [&](bool has, const char* name) {
    if (has) isa += (isa.empty() ? "" : " ") + std::string(name);
  };
  add(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"), "AVX2+FMA");
  add(__builtin_cpu_supports("avx512f"), "AVX-512F");
  add(__builtin_cpu_supports("avx512bf16"), "AVX512-BF16");
  const auto kernels = aevb::backend::bf16_kernels_available();
  add(std::find(kernels.begin(), kernels.end(), aevb::backend::Bf16Kernel::amx) != kernels.end(), "AMX-BF16");
  return isa.empty() ? "none of AVX2, AVX-512, AMX" : isa;
}

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--threads N] [--repeats R] [--steps S] [--iw-images N] [--iw-k K] [--gemm-size N]\n"
               "          [--conv-steps S] [--only SECTION[,SECTION...]] [--json PATH]\n"
               "sections: sgemm peer paper paper_ws peer_bf16 peer_bf16_avx512 conv iw iw_bf16 iw_bf16_avx512\n",
               argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage(argv[0]);
    const std::string v = argv[++i];
    if (a == "--threads") o.threads = std::stoi(v);
    else if (a == "--repeats") o.repeats = std::max(1, std::stoi(v));
    else if (a == "--steps") o.steps = std::stoul(v);
    else if (a == "--iw-images") o.iw_images = std::stoul(v);
    else if (a == "--iw-k") o.iw_k = std::stoul(v);
    else if (a == "--gemm-size") o.gemm_size = std::stoul(v);
    else if (a == "--conv-steps") o.conv_steps = std::stoul(v);
    else if (a == "--only") o.only = v;
    else if (a == "--json") o.json = v;
    else return usage(argv[0]);
  }
  auto with_threads = [&](std::function<std::string()> f) {
    return [&o, f] {
      aevb::set_threads(o.threads);
      return f();
    };
  };

  TrainCase peer{"peer", peer_model(), {}, aevb::Binarize::none};
  peer.train.objective = {aevb::Estimator::B, 1, 1.0f};
  peer.train.optimizer.kind = aevb::OptimizerKind::adam;
  peer.train.optimizer.lr = 1e-3f;
  peer.train.batch = 128;
  TrainCase paper{"paper", paper_model(), {}, aevb::Binarize::dynamic};
  paper.train.objective = {aevb::Estimator::B, 1, 1.0f};
  paper.train.optimizer.kind = aevb::OptimizerKind::adagrad;
  paper.train.optimizer.lr = 0.02f;
  paper.train.optimizer.weight_decay = 1.0f / 60000;  // the N(0, I) prior over N = 60,000 (as the preset)
  paper.train.batch = 100;
  TrainCase paper_ws = paper;
  paper_ws.name = "paper_ws";
  paper_ws.train.algorithm = "wake-sleep";
  TrainCase peer_bf16 = peer;  // the peer model with its products in bfloat16
  peer_bf16.name = "peer_bf16";
  peer_bf16.train.matmul_precision = aevb::MatmulPrecision::bfloat16;
  TrainCase peer_bf16_avx512 = peer_bf16;
  peer_bf16_avx512.name = "peer_bf16_avx512";
  using aevb::backend::Bf16Kernel;
  const auto kernels = aevb::backend::bf16_kernels_available();
  // The AVX512-BF16 kernel timed on its own where aevb would pick AMX.
  const bool avx512_beside_amx = kernels.size() > 1 && kernels[1] == Bf16Kernel::avx512;
  const auto on_avx512 = [&](std::function<std::string()> f) {
    return [f] {
      const aevb::backend::ScopedBf16Kernel forced(Bf16Kernel::avx512);
      return f();
    };
  };
  const aevb::RunSettings conv_mnist = aevb::preset_settings("conv-mnist");  // the preset itself, whatever it becomes
  TrainCase conv{"conv", conv_mnist.model, conv_mnist.train, conv_mnist.binarize, o.conv_steps};
  if (conv_mnist.prior_weight_decay) conv.train.optimizer.weight_decay = 1.0f / 60000;

  const std::string bf16_pick = kernels.empty() ? "none" : bf16_kernel_name();
  const std::string bf16_paths = bf16_pick + (avx512_beside_amx ? " (AVX512-BF16 also timed)" : "");
  std::printf("aevb_bench: %s, %d threads, %d repeats\n", cpu_model().c_str(), o.threads, o.repeats);
  std::printf("  instruction sets: %s; float32 products: OpenBLAS %s kernels; bfloat16 products: %s\n",
              cpu_isa().c_str(), openblas_get_corename(), bf16_paths.c_str());
  const aevb::bench::InstructionPeaks peaks = aevb::bench::measure_instruction_peaks();
  const auto peak_text = [](const std::optional<double>& v) {
    return v ? std::to_string(int(std::lround(*v))) : std::string("n/a");
  };
  std::printf("  one core's peak (GFLOP/s): FMA AVX2 %s, FMA AVX-512 %s, VDPBF16PS %s\n",
              peak_text(peaks.fma_avx2).c_str(), peak_text(peaks.fma_avx512).c_str(), peak_text(peaks.dpbf16).c_str());
  std::map<std::string, std::string> results;
  // --only takes one section or a comma-separated list of them.
  auto want = [&](const char* s) {
    return o.only.empty() || ("," + o.only + ",").find("," + std::string(s) + ",") != std::string::npos;
  };
  if (want("sgemm")) results["sgemm"] = in_child(with_threads([&] { return section_sgemm(o); }));
  if (want("peer")) results["train_peer"] = in_child(with_threads([&] { return section_train(o, peer); }));
  if (want("paper")) results["train_paper"] = in_child(with_threads([&] { return section_train(o, paper); }));
  if (want("paper_ws")) results["train_paper_ws"] = in_child(with_threads([&] { return section_train(o, paper_ws); }));
  if (results.count("train_paper") && results.count("train_paper_ws"))
    std::printf("  wake-sleep trains at %.2fx AEVB's samples/s on the paper's model (same networks and batch)\n",
                json_number(results["train_paper_ws"], "samples_per_s") / json_number(results["train_paper"], "samples_per_s"));
  if (want("peer_bf16") && !kernels.empty())
    results["train_peer_bf16"] = in_child(with_threads([&] { return section_train(o, peer_bf16); }));
  if (want("peer_bf16_avx512") && avx512_beside_amx)
    results["train_peer_bf16_avx512"] =
        in_child(with_threads(on_avx512([&] { return section_train(o, peer_bf16_avx512); })));
  if (want("conv")) results["train_conv"] = in_child(with_threads([&] { return section_train(o, conv); }));
  if (want("iw"))
    results["iw"] = in_child(with_threads([&] { return section_iw(o, aevb::MatmulPrecision::float32, "iw"); }));
  if (want("iw_bf16") && !kernels.empty())
    results["iw_bf16"] =
        in_child(with_threads([&] { return section_iw(o, aevb::MatmulPrecision::bfloat16, "iw_bf16"); }));
  if (want("iw_bf16_avx512") && avx512_beside_amx)
    results["iw_bf16_avx512"] = in_child(with_threads(
        on_avx512([&] { return section_iw(o, aevb::MatmulPrecision::bfloat16, "iw_bf16_avx512"); })));

  JsonObject top;
  top.str("cpu", cpu_model());
  top.num("threads", o.threads);
  top.num("cores", double(sysconf(_SC_NPROCESSORS_ONLN)));
  top.str("openblas_coretype", openblas_get_corename());
  top.str("instruction_sets", cpu_isa());
  if (peaks.fma_avx2) top.num("core_peak_fma_avx2_gflops", *peaks.fma_avx2);
  if (peaks.fma_avx512) top.num("core_peak_fma_avx512_gflops", *peaks.fma_avx512);
  if (peaks.dpbf16) top.num("core_peak_dpbf16_gflops", *peaks.dpbf16);
  top.str("bf16_products", bf16_pick);
  for (const auto& [k, v] : results) top.raw(k, v);
  // The step against the machine: achieved GFLOP/s over large-SGEMM GFLOP/s.
  if (results.count("sgemm")) {
    const double large = json_number(results["sgemm"], "large_gflops");
    for (const char* t : {"train_peer", "train_paper", "train_conv"}) {
      if (!results.count(t)) continue;
      const double f = json_number(results[t], "gflops") / large;
      std::printf("  %-12s step at %.0f%% of large-SGEMM GFLOP/s\n", t, 100 * f);
      top.num(std::string(t) + "_fraction_of_sgemm", f);
    }
  }
  if (!o.json.empty()) {
    const std::filesystem::path path(o.json);
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << top.text() << "\n";
    std::printf("wrote %s\n", o.json.c_str());
  }
  return 0;
}
