// dev lab: forward + backward of a conv network's image layers for 28x28
// MNIST, each layer timed alone on random inputs, ReLU after each but the
// last of each side, no input gradient for the first layer (as in training).
// `vae` (the default): the conv VAE's four layers (encoder conv:32:4:2:1,
// conv:64:4:2:1; decoder deconv:32:4:2:1, deconv:1:4:2:1), which
// dev/conv_torch.py times in PyTorch; `vq`: the vq-mnist preset's eight
// (encoder conv:32:4:2:1, conv:64:4:2:1, residual:32, the 1x1 head to 16;
// decoder conv:64:3:1:1, residual:32, deconv:32:4:2:1, deconv:1:4:2:1), at
// its batch of 128 unless one is given. Prints the median milliseconds per
// layer (forward, backward, both) and the layers together.
//
// usage: conv_lab [threads (2)] [repeats (30)] [batch (100; vq: 128)] [cpu] [vae|vq]
// With `cpu`, the times are the process's CPU time (all threads), not wall
// time: on a machine shared with other work, the cost of a change to a
// kernel shows in CPU time on 1 thread when wall times are noise.
#include "core/param_layout.hpp"
#include "core/rng.hpp"
#include "nn/conv.hpp"

#include <aevb/vae.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <cstdlib>
#include <memory>
#include <vector>

namespace {

using namespace aevb;
using Clock = std::chrono::steady_clock;

bool g_cpu_time = false;

// Milliseconds on the chosen clock.
double now_ms() {
  if (!g_cpu_time) return std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch()).count();
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) * 1e3 + double(t.tv_nsec) * 1e-6;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

LayerSpec window(LayerKind kind, std::size_t out, std::size_t kernel = 4, std::size_t stride = 2,
                 std::size_t padding = 1) {
  LayerSpec s;
  s.kind = kind;
  s.out = out;
  s.kernel = kernel;
  s.stride = stride;
  s.padding = padding;
  return s;
}

struct Case {
  const char* name;
  Shape in;
  LayerSpec spec;
  Act act;
};

std::unique_ptr<Layer<float>> make_layer(ParamLayout& layout, const Case& c) {
  switch (c.spec.kind) {
    case LayerKind::conv: return std::make_unique<Conv2d<float>>(layout, "l", c.in, c.spec, c.act, 0);
    case LayerKind::deconv: return std::make_unique<ConvTranspose2d<float>>(layout, "l", c.in, c.spec, c.act, 0);
    default: return std::make_unique<Residual<float>>(layout, "l", c.in, c.spec, c.act, 0);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 30;
  const bool vq = argc > 5 && std::strcmp(argv[5], "vq") == 0;
  const std::size_t batch = argc > 3 && std::atoi(argv[3]) > 0 ? std::strtoul(argv[3], nullptr, 10) : vq ? 128 : 100;
  g_cpu_time = argc > 4 && std::strcmp(argv[4], "cpu") == 0;
  set_threads(threads);
  const LayerKind conv = LayerKind::conv, deconv = LayerKind::deconv;
  const std::vector<Case> vae = {{"conv 1->32 28->14", {1, 28, 28}, window(conv, 32), Act::relu},
                                 {"conv 32->64 14->7", {32, 14, 14}, window(conv, 64), Act::relu},
                                 {"deconv 64->32 7->14", {64, 7, 7}, window(deconv, 32), Act::relu},
                                 {"deconv 32->1 14->28", {32, 14, 14}, window(deconv, 1), Act::identity}};
  const std::vector<Case> vq_net = {
      {"conv 1->32 28->14", {1, 28, 28}, window(conv, 32), Act::relu},
      {"conv 32->64 14->7", {32, 14, 14}, window(conv, 64), Act::relu},
      {"residual 64:32 7x7", {64, 7, 7}, window(LayerKind::residual, 32), Act::relu},
      {"conv 1x1 64->16 7x7", {64, 7, 7}, window(conv, 16, 1, 1, 0), Act::identity},
      {"conv 3x3 16->64 7x7", {16, 7, 7}, window(conv, 64, 3, 1, 1), Act::relu},
      {"residual 64:32 7x7", {64, 7, 7}, window(LayerKind::residual, 32), Act::relu},
      {"deconv 64->32 7->14", {64, 7, 7}, window(deconv, 32), Act::relu},
      {"deconv 32->1 14->28", {32, 14, 14}, window(deconv, 1), Act::identity}};
  double total = 0;
  bool first = true;
  for (const Case& c : vq ? vq_net : vae) {
    ParamLayout layout;
    const std::unique_ptr<Layer<float>> layer = make_layer(layout, c);
    const std::size_t in = layer->in_shape().size(), out = layer->out_shape().size();
    std::vector<float> params(layout.total()), grads(layout.total()), x(batch * in), y(batch * out),
        dy(batch * out), dx(batch * in);
    fill_normal(params.data(), params.size(), 1, 0);
    for (float& p : params) p *= 0.1f;
    fill_normal(x.data(), x.size(), 2, 0);
    layer->plan(batch);
    std::vector<double> fwd, bwd, both;
    for (int r = 0; r < repeats + 5; ++r) {
      std::fill(dy.begin(), dy.end(), 1.0f);
      const double t0 = now_ms();
      layer->forward(params.data(), {x.data(), batch, in}, {y.data(), batch, out});
      const double t1 = now_ms();
      layer->backward(params.data(), grads.data(), {x.data(), batch, in}, {y.data(), batch, out},
                      {dy.data(), batch, out}, {first ? nullptr : dx.data(), batch, in}, GradMode::overwrite);
      const double t2 = now_ms();
      if (r < 5) continue;  // warm-up
      fwd.push_back(t1 - t0);
      bwd.push_back(t2 - t1);
      both.push_back(t2 - t0);
    }
    const double ms = median(both);
    total += ms;
    std::printf("%-22s forward %7.3f  backward %7.3f  forward+backward %7.3f ms\n", c.name, median(fwd),
                median(bwd), ms);
    first = false;
  }
  std::printf("%-22s %7.3f ms  (%.0f samples/s for the layers)\n", "sum", total,
              double(batch) / total * 1e3);
  std::printf("aevb, %d threads, batch %zu, median of %d, %s\n", threads, batch, repeats,
              g_cpu_time ? "CPU time" : "wall time");
}
