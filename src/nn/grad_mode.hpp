#pragma once

namespace aevb {

/// How a backward pass writes the parameter gradients: added to what the
/// buffer holds (one zero-grad per step, several passes may add), or written
/// over it (no zero-grad pass: each layer's products write their slice).
enum class GradMode { accumulate, overwrite };

}  // namespace aevb
