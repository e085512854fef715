// core/thread_pool: every index is visited once, tasks land on the threads the
// header promises, nested and concurrent calls fall back to the caller, and a
// forked child can use the pool.
#include "core/thread_pool.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

namespace aevb {
namespace {

// Restores the default thread count after each test.
class ThreadPool : public ::testing::Test {
 protected:
  void TearDown() override { pool::set_threads(0); }
};

TEST_F(ThreadPool, RangesCoverEveryIndexOnce) {
  for (int threads : {1, 2, 3, 5}) {
    pool::set_threads(threads);
    for (std::size_t count : {0u, 1u, 2u, 7u, 1000u}) {
      std::vector<std::atomic<int>> visits(count);
      std::atomic<int> ranges{0};
      pool::for_ranges(count, [&](std::size_t first, std::size_t last) {
        EXPECT_LT(first, last);
        ++ranges;
        for (std::size_t i = first; i < last; ++i) ++visits[i];
      });
      for (std::size_t i = 0; i < count; ++i) EXPECT_EQ(visits[i], 1) << threads << " threads, index " << i;
      EXPECT_LE(ranges.load(), std::max(1, threads)) << threads << " threads, count " << count;
    }
  }
}

TEST_F(ThreadPool, TasksGoRoundRobinWithTheCallerFirst) {
  pool::set_threads(2);
  EXPECT_EQ(pool::threads(), 2);
  constexpr std::size_t kTasks = 6;
  std::vector<std::thread::id> ran_on(kTasks);
  pool::for_each_task(kTasks, [&](std::size_t t) { ran_on[t] = std::this_thread::get_id(); });
  const auto caller = std::this_thread::get_id();
  for (std::size_t t = 0; t < kTasks; t += 2) EXPECT_EQ(ran_on[t], caller) << "task " << t;
  for (std::size_t t = 1; t < kTasks; t += 2) {
    EXPECT_NE(ran_on[t], caller) << "task " << t;
    EXPECT_EQ(ran_on[t], ran_on[1]) << "task " << t;
  }
}

TEST_F(ThreadPool, NotParallelRunsOneRangeOnTheCaller) {
  pool::set_threads(4);
  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  std::thread::id ran_on;
  pool::for_ranges(
      100,
      [&](std::size_t first, std::size_t last) {
        ranges.emplace_back(first, last);
        ran_on = std::this_thread::get_id();
      },
      false);
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_EQ(ranges[0], std::make_pair(std::size_t{0}, std::size_t{100}));
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST_F(ThreadPool, NestedLoopsRunInsideTheirTask) {
  pool::set_threads(2);
  std::atomic<int> inner_ranges{0}, inner_visits{0}, foreign{0};
  pool::for_each_task(4, [&](std::size_t) {
    const auto outer = std::this_thread::get_id();
    pool::for_ranges(50, [&](std::size_t first, std::size_t last) {
      ++inner_ranges;
      inner_visits += int(last - first);
      if (std::this_thread::get_id() != outer) ++foreign;
    });
  });
  EXPECT_EQ(inner_ranges, 4);  // one whole range per outer task
  EXPECT_EQ(inner_visits, 200);
  EXPECT_EQ(foreign, 0);
}

TEST_F(ThreadPool, ConcurrentCallersBothFinishCorrectly) {
  pool::set_threads(2);
  constexpr std::size_t kCount = 20000;
  constexpr int kRounds = 200;
  std::vector<std::atomic<int>> a(kCount), b(kCount);
  auto hammer = [](std::vector<std::atomic<int>>& visits) {
    for (int round = 0; round < kRounds; ++round)
      pool::for_ranges(visits.size(), [&](std::size_t first, std::size_t last) {
        for (std::size_t i = first; i < last; ++i) ++visits[i];
      });
  };
  std::thread other(hammer, std::ref(b));
  hammer(a);
  other.join();
  for (std::size_t i = 0; i < kCount; ++i) {
    ASSERT_EQ(a[i], kRounds) << i;
    ASSERT_EQ(b[i], kRounds) << i;
  }
}

TEST_F(ThreadPool, DefaultIsTheProcessorsThisProcessMayUse) {
  pool::set_threads(3);
  EXPECT_EQ(pool::threads(), 3);
  pool::set_threads(0);
  EXPECT_EQ(pool::threads(), pool::processor_count());
  EXPECT_GE(pool::processor_count(), 1);
}

// A product whose exact value is subnormal: 1e-30 * 1e-10 = 1e-40 < 1.18e-38.
float tiny_product() {
  volatile float a = 1e-30f, b = 1e-10f;
  return a * b;
}

TEST_F(ThreadPool, JobsFlushSubnormalsOnEveryThreadAndRestoreTheCaller) {
#if !defined(__SSE__)
  GTEST_SKIP() << "flushing is x86's MXCSR";
#endif
  ASSERT_GT(tiny_product(), 0.0f) << "this thread already flushes subnormals";
  for (int threads : {1, 2}) {
    pool::set_threads(threads);
    std::vector<float> seen(8, -1.0f);
    pool::for_each_task(seen.size(), [&](std::size_t t) { seen[t] = tiny_product(); });
    for (std::size_t t = 0; t < seen.size(); ++t) EXPECT_EQ(seen[t], 0.0f) << threads << " threads, task " << t;
    EXPECT_GT(tiny_product(), 0.0f) << "the caller's mode was not restored";
  }
}

TEST_F(ThreadPool, ForkedChildCanUseThePool) {
  pool::set_threads(2);
  std::atomic<int> sum{0};
  pool::for_ranges(10, [&](std::size_t first, std::size_t last) { sum += int(last - first); });
  ASSERT_EQ(sum, 10);  // the parent's workers are running
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    alarm(20);  // a hang in the child ends as SIGALRM, not as a stuck test
    std::atomic<int> child_sum{0};
    pool::for_ranges(1000, [&](std::size_t first, std::size_t last) { child_sum += int(last - first); });
    _exit(child_sum == 1000 ? 0 : 3);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "child ended by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace aevb
