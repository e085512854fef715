#include "stop_signal.hpp"

#include <csignal>

namespace aevb::cli {
namespace {

volatile std::sig_atomic_t g_received = 0;

extern "C" void on_stop_signal(int signal) {
  g_received = signal;
  std::signal(signal, SIG_DFL);  // a second one ends the process at once
}

using Handler = void (*)(int);
Handler g_previous_int = SIG_DFL, g_previous_term = SIG_DFL;

}  // namespace

StopSignal::StopSignal() {
  g_received = 0;
  g_previous_int = std::signal(SIGINT, on_stop_signal);
  g_previous_term = std::signal(SIGTERM, on_stop_signal);
}

StopSignal::~StopSignal() {
  std::signal(SIGINT, g_previous_int);
  std::signal(SIGTERM, g_previous_term);
}

int StopSignal::received() const { return g_received; }

}  // namespace aevb::cli
