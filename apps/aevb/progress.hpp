#pragma once
// Progress of a long loop on stdout: a redrawn bar with rate, ETA and the
// running bound on a terminal; a plain line every 10% otherwise (logs, CI).
#include <chrono>
#include <cstddef>
#include <string>

namespace aevb::cli {

class Progress {
 public:
  /// `label` prefixes each line; `unit` names what is counted (e.g. "samples").
  Progress(std::string label, std::string unit);
  /// done of total units so far, with an optional value to show (NaN: none).
  void update(std::size_t done, std::size_t total, double value, const char* value_name = "bound");
  /// Ends the bar's line (terminal only).
  void finish();

 private:
  std::string label_, unit_;
  bool terminal_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  int last_decile_ = -1;
};

/// "1:02:03" or "2:03".
std::string format_duration(double seconds);

}  // namespace aevb::cli
