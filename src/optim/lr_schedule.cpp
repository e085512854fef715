#include "optim/lr_schedule.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <vector>

namespace aevb {
namespace {

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", v);
  return text;
}

// The parts of "a:b:c".
std::vector<std::string> split_colons(std::string_view spec) {
  std::vector<std::string> parts(1);
  for (const char c : spec) {
    if (c == ':')
      parts.emplace_back();
    else
      parts.back() += c;
  }
  return parts;
}

double parse_number(const std::string& text, std::string_view spec) {
  std::size_t used = 0;
  double v = NAN;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size() || !std::isfinite(v))
    throw InputError("learning-rate schedule: expected a number, found '" + text + "' in '" + std::string(spec) + "'");
  return v;
}

double burda_factor(double epoch) {
  double end = 0, stage = 1;
  for (int i = 0; i < 7; ++i, stage *= 3) {
    end += stage;
    if (epoch < end) return std::pow(10.0, -double(i) / 7.0);
  }
  return 0.1;  // stage 7 (10^(-7/7)) and every epoch after it
}

}  // namespace

double lr_factor(const LrSchedule& s, std::uint64_t step, double steps_per_epoch) {
  // The epoch this step belongs to, as a fraction: step 1 is the start of epoch 0.
  step = std::max<std::uint64_t>(step, 1);  // step 0 (nothing done yet) reads as the first
  const double epoch = s.kind == LrScheduleKind::constant ? 0.0 : double(step - 1) / steps_per_epoch;
  double factor = 1;
  switch (s.kind) {
    case LrScheduleKind::constant: break;
    case LrScheduleKind::step: factor = std::pow(s.gamma, std::floor(epoch / s.every)); break;
    case LrScheduleKind::exponential: factor = std::pow(s.gamma, epoch); break;
    case LrScheduleKind::cosine:
      factor = s.min_factor +
               (1 - s.min_factor) * (1 + std::cos(std::numbers::pi * std::min(epoch, s.epochs) / s.epochs)) / 2;
      break;
    case LrScheduleKind::burda: factor = burda_factor(epoch); break;
  }
  return factor;
}

double warmup_factor(std::uint64_t warmup_steps, std::uint64_t step) {
  step = std::max<std::uint64_t>(step, 1);
  return step < warmup_steps ? double(step) / double(warmup_steps) : 1.0;
}

LrSchedule parse_lr_schedule(std::string_view spec) {
  const std::vector<std::string> p = split_colons(spec);
  LrSchedule s;
  auto expect = [&](bool ok) {
    if (!ok)
      throw InputError(
          "learning-rate schedule: expected constant, step:EVERY:GAMMA, exponential:GAMMA, cosine:EPOCHS[:MIN_FACTOR] "
          "or burda, found '" + std::string(spec) + "'");
  };
  if (p[0] == "constant") {
    expect(p.size() == 1);
  } else if (p[0] == "step") {
    expect(p.size() == 3);
    s.kind = LrScheduleKind::step;
    s.every = parse_number(p[1], spec);
    s.gamma = parse_number(p[2], spec);
  } else if (p[0] == "exponential") {
    expect(p.size() == 2);
    s.kind = LrScheduleKind::exponential;
    s.gamma = parse_number(p[1], spec);
  } else if (p[0] == "cosine") {
    expect(p.size() == 2 || p.size() == 3);
    s.kind = LrScheduleKind::cosine;
    s.epochs = parse_number(p[1], spec);
    if (p.size() == 3) s.min_factor = parse_number(p[2], spec);
  } else if (p[0] == "burda") {
    expect(p.size() == 1);
    s.kind = LrScheduleKind::burda;
  } else {
    expect(false);
  }
  validate(s);
  return s;
}

std::string to_spec(const LrSchedule& s) {
  switch (s.kind) {
    case LrScheduleKind::constant: return "constant";
    case LrScheduleKind::step: return "step:" + number(s.every) + ":" + number(s.gamma);
    case LrScheduleKind::exponential: return "exponential:" + number(s.gamma);
    case LrScheduleKind::cosine: return "cosine:" + number(s.epochs) + ":" + number(s.min_factor);
    case LrScheduleKind::burda: return "burda";
  }
  return "constant";
}

void validate(const LrSchedule& s) {
  const std::string spec = to_spec(s);
  auto fail = [&](const std::string& what) {
    throw InputError("learning-rate schedule: " + what + ", found '" + spec + "'");
  };
  if (s.kind == LrScheduleKind::step && !(s.every > 0)) fail("expected EVERY > 0 epochs");
  if ((s.kind == LrScheduleKind::step || s.kind == LrScheduleKind::exponential) && !(s.gamma > 0 && s.gamma <= 1))
    fail("expected a decay factor GAMMA in (0, 1]");
  if (s.kind == LrScheduleKind::cosine && !(s.epochs > 0)) fail("expected EPOCHS > 0");
  if (s.kind == LrScheduleKind::cosine && !(s.min_factor >= 0 && s.min_factor <= 1))
    fail("expected MIN_FACTOR in [0, 1]");
}

}  // namespace aevb
