#pragma once
// A VQ-VAE's code prior (src/prior/code_prior.hpp) as the commands find it:
// aevb train-prior writes it beside the model (RUN/prior.safetensors) with
// the model's parameter checksum, and aevb sample and eval read it from
// there or from --prior, refusing a prior trained on another model's codes.
#include "prior/code_prior.hpp"

#include <aevb/vae.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace aevb::cli {

/// RUN/prior.safetensors for RUN/model.safetensors.
std::filesystem::path default_prior_path(const std::filesystem::path& model_path);

/// The model's parameters as the prior file records them (FNV-1a, hex).
std::string model_checksum(const Vae& model);

/// The prior at `flag` (InputError if it cannot be read), else at the
/// default path if a file is there, else none; InputError when it does not
/// belong to `model` (another grid, another codebook, other parameters).
std::optional<CodePrior> find_code_prior(const Vae& model, const std::filesystem::path& model_path,
                                         const std::string& flag);

}  // namespace aevb::cli
