#pragma once
// What `aevb explore` serves (docs/explore.md): a model, the datapoints it was
// started with, their posterior means and standard deviations, their labels or
// cluster assignments, and the answers to the page's questions as JSON. Every
// question checks its arguments and throws BadRequest (the server's 400) for
// bad ones; nothing here touches the file system after construction.
#include <aevb/data.hpp>
#include <aevb/vae.hpp>

#include "eval/latent_grid.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace aevb::cli {

/// A request the explorer refuses: its message goes back with status 400.
struct BadRequest : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The plane the scatter shows: the leading principal axes of the posterior
/// means, or two chosen latent dimensions.
struct Projection {
  enum class Kind { pca, dims } kind = Kind::pca;
  std::size_t x = 0, y = 1;  // the dimensions of Kind::dims
};

/// Largest answers, so that no request can ask for unbounded work or memory.
struct ExploreLimits {
  static constexpr std::size_t decode_rows = 1024;
  static constexpr std::size_t interpolation_steps = 64;
  static constexpr std::size_t grid_steps = 30;
  static constexpr std::size_t neighbours = 100;
  static constexpr std::size_t cluster_samples = 16;
  static constexpr double latent_magnitude = 1000.0;  // |z_j| a decode request may give
};

class ExploreSession {
 public:
  /// Encodes every datapoint of `data` (binarized as evaluation does: a
  /// model trained on binarized data sees one fixed sample with `seed`).
  /// InputError when the model has no encoder or does not fit the data.
  ExploreSession(Vae model, Dataset data, std::string model_name, Binarize binarize, std::uint64_t seed);

  std::size_t latent() const { return latent_; }
  std::size_t count() const { return data_.count; }
  const Dataset& data() const { return data_; }
  const std::vector<float>& means() const { return means_; }      // [count, latent]
  const std::vector<float>& inputs() const { return inputs_; }    // [count, dim], what the encoder saw
  const std::vector<std::int32_t>& clusters() const { return clusters_; }  // empty unless a cluster model

  /// The scatter's default: the two dimensions of a 2-D latent, PCA otherwise.
  Projection default_projection() const;

  nlohmann::json info() const;
  nlohmann::json points(const Projection& projection) const;
  nlohmann::json point(std::size_t index, const Projection& projection) const;
  /// E[x|z] of `z` ([rows, latent], rows 1 to ExploreLimits::decode_rows).
  nlohmann::json decode(const std::vector<float>& z) const;
  nlohmann::json interpolate(std::size_t a, std::size_t b, std::size_t steps, Interpolation path) const;
  nlohmann::json grid(std::size_t steps) const;
  nlohmann::json neighbours(std::size_t index, std::size_t k) const;
  nlohmann::json cluster_samples(std::size_t per_cluster) const;

  /// BadRequest naming `what` unless index < count().
  std::size_t checked_index(std::size_t index, const char* what) const;

 private:
  struct Plane {
    std::vector<double> center;
    std::array<std::vector<double>, 2> axes;
    std::array<double, 2> explained{};
  };
  Plane plane(const Projection& projection) const;
  std::vector<float> decode_rows_locked(const std::vector<float>& z) const;
  nlohmann::json images(const std::vector<float>& x) const;
  bool has_manifold() const;

  Vae model_;
  Dataset data_;
  std::string model_name_;
  std::size_t latent_ = 0;
  std::vector<float> means_, sigmas_, inputs_;
  std::vector<std::int32_t> clusters_;
  std::vector<float> cluster_probabilities_;  // [count, clusters] for a cluster model
  std::vector<double> pca_center_;
  std::array<std::vector<double>, 2> pca_axes_;
  std::array<double, 2> pca_explained_{};
  std::vector<double> dim_variance_;  // of the means, per dimension, for the dims projection's shares
  mutable std::mutex model_mutex_;    // the engine's workspace serves one forward pass at a time
};

}  // namespace aevb::cli
