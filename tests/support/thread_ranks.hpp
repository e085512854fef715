#pragma once
// Ranks as threads of one process (a Communicator without MPI), for the
// tests of what is split across ranks: training's shards, evaluation.
#include <aevb/communicator.hpp>

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace aevb::test {

// Ranks as threads of one process, with a queue of messages for each pair
// (receiver, sender): as MPI matches messages by their source, a fast rank's
// next message can never be taken for another rank's.
class Mailboxes {
 public:
  explicit Mailboxes(int ranks) : ranks_(ranks), boxes_(std::size_t(ranks * ranks)) {}
  void post(int to, int from, const void* data, std::size_t bytes) {
    const auto* p = static_cast<const char*>(data);
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      box(to, from).emplace_back(p, p + bytes);
    }
    arrived_.notify_all();
  }
  void take(int at, int from, void* data, std::size_t bytes) {
    std::unique_lock<std::mutex> lock(mutex_);
    auto& queue = box(at, from);
    arrived_.wait(lock, [&] { return !queue.empty(); });
    ASSERT_EQ(queue.front().size(), bytes) << "rank " << at << " got a message of another size from " << from;
    if (bytes > 0) std::memcpy(data, queue.front().data(), bytes);  // an empty message may come with no buffer
    queue.pop_front();
  }
  int ranks() const { return ranks_; }

 private:
  std::deque<std::vector<char>>& box(int to, int from) { return boxes_[std::size_t(to * ranks_ + from)]; }
  int ranks_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<std::deque<std::vector<char>>> boxes_;
};

class ThreadRank final : public Communicator {
 public:
  ThreadRank(Mailboxes& boxes, int rank) : boxes_(boxes), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return boxes_.ranks(); }
  void receive_from_previous(void* data, std::size_t bytes) override { boxes_.take(rank_, rank_ - 1, data, bytes); }
  void send_to_next(const void* data, std::size_t bytes) override { boxes_.post(rank_ + 1, rank_, data, bytes); }
  void broadcast(void* data, std::size_t bytes, int root) override {
    if (rank_ == root) {
      for (int r = 0; r < size(); ++r)
        if (r != root) boxes_.post(r, root, data, bytes);
    } else {
      boxes_.take(rank_, root, data, bytes);
    }
  }

 private:
  Mailboxes& boxes_;
  int rank_;
};

/// Runs `body(rank)` on `ranks` threads, each with its ThreadRank, and joins them.
inline void on_thread_ranks(int ranks, const std::function<void(Communicator&)>& body) {
  Mailboxes boxes(ranks);
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      ThreadRank rank(boxes, r);
      body(rank);
    });
  for (std::thread& t : threads) t.join();
}

}  // namespace aevb::test
