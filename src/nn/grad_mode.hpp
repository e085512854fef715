#pragma once

namespace aevb {

/// How a backward pass treats the parameter gradients: added to what the
/// buffer holds (one zero-grad per step, several passes may add), written
/// over it (no zero-grad pass: each layer's products write their slice), or
/// not formed at all: the layers skip their weight and bias products, never
/// touch the buffer, and still produce dL/dx. The last is what a gradient
/// with respect to z through the decoder needs (HMC on p(z|x), App. D and E
/// of Kingma & Welling 2013): it saves the weight products, about a third of
/// a backward pass's work.
enum class GradMode { accumulate, overwrite, none };

}  // namespace aevb
