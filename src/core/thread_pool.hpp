#pragma once
// aevb's one pool of worker threads: every parallel loop of the library (GEMM
// tiles, element-wise kernels, the optimizer, the RNG) runs on it, and BLAS
// runs single-threaded inside it.
//
// Why not OpenMP's pool: libgomp's idle threads spin for a long while before
// they sleep, and it reads that policy (OMP_WAIT_POLICY) from the environment
// once, at load, so a library cannot choose it. On a machine shared with
// another busy process, the spinning thread takes the core that the thread
// with the work needs: 2-thread training measured 7,400 samples/s against
// 11,900 on one thread, and 12,700 with OMP_WAIT_POLICY=passive
// (docs/performance.md). Here an idle worker spins for a few microseconds (the
// gap between the kernels of one training step) and then sleeps on a futex.
//
// Results never depend on the thread count: callers cut work into pieces
// fixed by the problem, and which thread runs a piece does not change it.
// Every job runs with subnormal floats flushed to zero (x86 FTZ + DAZ), on
// the workers and on the caller alike, the one-thread fallback included: the
// same numbers on any thread count, and no ~100x subnormal slow path.
#include <cstddef>
#include <utility>

namespace aevb::pool {

/// Processors this process may run on (its CPU affinity mask), at least 1.
int processor_count();

/// Threads that parallel loops use, the calling thread included; 0 or less:
/// processor_count(). Joins the current workers (new ones start on first use).
void set_threads(int threads);
int threads();

namespace detail {
using Job = void (*)(const void* context, int part, int parts);
/// Runs job(context, p, parts) for p in [0, parts) on the pool's threads (p = 0
/// on the caller) and returns when all are done. Runs job(context, 0, 1) on
/// the caller instead when `parallel` is false, when one thread is set, when
/// called from inside a pool job, or while another thread is using the pool.
void run(Job job, const void* context, bool parallel) noexcept;
}  // namespace detail

/// body(first, last) over contiguous ranges that together cover [0, count),
/// one range per thread. Bodies must not throw.
template <class F>
void for_ranges(std::size_t count, const F& body, bool parallel = true) {
  const auto job = [](const void* context, int part, int parts) {
    const auto& [n, f] = *static_cast<const std::pair<std::size_t, const F*>*>(context);
    const std::size_t first = n * std::size_t(part) / std::size_t(parts);
    const std::size_t last = n * std::size_t(part + 1) / std::size_t(parts);
    if (first < last) (*f)(first, last);
  };
  const std::pair<std::size_t, const F*> context{count, &body};
  detail::run(job, &context, parallel && count > 1);
}

/// body(i) for every i in [0, count), task i on thread i % threads(): with an
/// even count of tasks sized largest first, two threads get equal shares.
/// Bodies must not throw.
template <class F>
void for_each_task(std::size_t count, const F& body, bool parallel = true) {
  const auto job = [](const void* context, int part, int parts) {
    const auto& [n, f] = *static_cast<const std::pair<std::size_t, const F*>*>(context);
    for (std::size_t i = std::size_t(part); i < n; i += std::size_t(parts)) (*f)(i);
  };
  const std::pair<std::size_t, const F*> context{count, &body};
  detail::run(job, &context, parallel && count > 1);
}

}  // namespace aevb::pool
