#pragma once
// Learning-rate schedules (LrSchedule in <aevb/config.hpp>): the factor that
// multiplies OptimizerConfig::lr at each optimizer step, a pure function of
// the step and the epoch length, so that a resumed run (which restores the
// step count from its checkpoint) continues its schedule exactly.
//   constant      1
//   step          gamma^floor(epoch / every)               (PyTorch StepLR)
//   exponential   gamma^epoch                               (ExponentialLR, per fractional epoch)
//   cosine        m + (1 - m) (1 + cos(pi min(epoch, E) / E)) / 2, m = min_factor
//                                                           (CosineAnnealingLR, eta_min = m lr, T_max = E)
//   burda         10^(-i/7) in the epochs sum_{j<i} 3^j <= epoch < sum_{j<=i} 3^j, i = 0..7, then 10^(-1)
//                 (Burda, Grosse & Salakhutdinov 2015, sec. 5: 3^i epochs at 0.001 * 10^(-i/7); 3280 in all)
// and a linear warm-up (OptimizerConfig::lr_warmup_steps) on top of any of them.
#include <aevb/config.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace aevb {

/// The factor at optimizer step `step` (counting from 1, as Optimizer::apply;
/// 0 reads as 1), with `steps_per_epoch` steps to an epoch (> 0 for any kind
/// but constant).
double lr_factor(const LrSchedule& schedule, std::uint64_t step, double steps_per_epoch);
/// The warm-up's factor at optimizer step `step`: step / warmup_steps during
/// the first warmup_steps steps, then 1 (always 1 for warmup_steps = 0).
double warmup_factor(std::uint64_t warmup_steps, std::uint64_t step);

/// Burda et al.'s schedule ends after this many epochs (3^0 + ... + 3^7).
inline constexpr std::uint64_t kBurdaEpochs = 3280;

/// "constant", "step:EVERY:GAMMA", "exponential:GAMMA", "cosine:EPOCHS[:MIN_FACTOR]"
/// or "burda". InputError saying
/// what was expected and naming the spec otherwise.
LrSchedule parse_lr_schedule(std::string_view spec);
/// The spec parse_lr_schedule reads back.
std::string to_spec(const LrSchedule& schedule);

/// InputError unless the numbers are usable: every > 0, 0 < gamma <= 1
/// (a step schedule that decays; exponential too), epochs > 0, 0 <= min_factor <= 1.
void validate(const LrSchedule& schedule);

}  // namespace aevb
