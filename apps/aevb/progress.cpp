#include "progress.hpp"

#include <cmath>
#include <cstdio>
#include <unistd.h>

namespace aevb::cli {

Progress::Progress(std::string label, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      terminal_(::isatty(STDOUT_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

void Progress::update(std::size_t done, std::size_t total, double value, const char* value_name) {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double fraction = total > 0 ? double(done) / double(total) : 1.0;
  const double rate = elapsed > 0 ? double(done) / elapsed : 0.0;
  const double eta = rate > 0 ? double(total - done) / rate : NAN;
  char tail[160];
  const int n = std::snprintf(tail, sizeof tail, "%zu/%zu %s, %.0f %s/s, ETA %s", done, total, unit_.c_str(), rate,
                              unit_.c_str(), format_duration(eta).c_str());
  std::string line = label_ + " " + std::string(tail, std::size_t(std::max(n, 0)));
  if (std::isfinite(value)) {
    char v[64];
    std::snprintf(v, sizeof v, ", %s %.2f", value_name, value);
    line += v;
  }
  if (terminal_) {
    if (done < total && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(fraction * kWidth);
    std::string bar(std::size_t(filled), '=');
    if (filled < kWidth) bar += '>';
    bar.resize(kWidth, ' ');
    std::fprintf(stdout, "\r\033[K[%s] %3.0f%% %s", bar.c_str(), fraction * 100, line.c_str());
    std::fflush(stdout);
  } else {
    const int decile = static_cast<int>(fraction * 10);
    if (decile == last_decile_) return;
    last_decile_ = decile;
    std::fprintf(stdout, "%3.0f%% %s\n", fraction * 100, line.c_str());
  }
}

void Progress::finish() {
  if (terminal_) std::fprintf(stdout, "\n");
}

}  // namespace aevb::cli
