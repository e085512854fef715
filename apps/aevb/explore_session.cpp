#include "explore_session.hpp"

#include "common.hpp"
#include "model_use.hpp"

#include "eval/evaluation.hpp"
#include "eval/pca.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

namespace aevb::cli {
namespace {

using nlohmann::json;

json vector_json(const float* v, std::size_t n) { return json(std::vector<float>(v, v + n)); }

}  // namespace

ExploreSession::ExploreSession(Vae model, Dataset data, std::string model_name, Binarize binarize,
                               std::uint64_t seed)
    : model_(std::move(model)), data_(std::move(data)), model_name_(std::move(model_name)),
      latent_(model_.config().latent) {
  require_encoder(model_, model_name_, "explore");
  require_unconditional(model_, model_name_, "explore");
  require_fit(model_, data_, model_name_);
  if (data_.count == 0) throw InputError("explore: " + data_.source + " has no datapoints");
  std::vector<std::uint32_t> rows(data_.count);
  std::iota(rows.begin(), rows.end(), 0u);
  Posterior q = encode_rows(model_, data_, rows, binarize, seed, &inputs_);
  means_ = std::move(q.mean);
  sigmas_ = std::move(q.variance);
  for (float& s : sigmas_) s = std::sqrt(s);
  if (model_.clusters() > 0) {
    clusters_ = assign_clusters(model_, {inputs_.data(), data_.count, data_.dim}, &cluster_probabilities_);
  }
  const PrincipalAxes p = principal_axes({means_.data(), data_.count, latent_}, 2);
  pca_center_ = p.center;
  pca_axes_ = {p.axes[0], p.axes[1]};
  pca_explained_ = {p.explained[0], p.explained[1]};
  dim_variance_.assign(latent_, 0.0);
  for (std::size_t r = 0; r < data_.count; ++r)
    for (std::size_t j = 0; j < latent_; ++j) {
      const double d = means_[r * latent_ + j] - pca_center_[j];
      dim_variance_[j] += d * d / double(data_.count);
    }
}

Projection ExploreSession::default_projection() const {
  return latent_ == 2 ? Projection{Projection::Kind::dims, 0, 1} : Projection{};
}

bool ExploreSession::has_manifold() const {
  // The manifold maps quantiles of N(0, I) (Kingma & Welling Fig. 4): only the
  // paper's VAE has that prior over a 2-D z.
  return model_.config().family == "vae" && latent_ == 2;
}

std::size_t ExploreSession::checked_index(std::size_t index, const char* what) const {
  if (index >= data_.count)
    throw BadRequest(std::string(what) + " " + std::to_string(index) + ": out of range, the explorer has " +
                     std::to_string(data_.count) + " datapoints (0 to " + std::to_string(data_.count - 1) + ")");
  return index;
}

json ExploreSession::info() const {
  const ModelConfig& c = model_.config();
  json image = nullptr;
  if (data_.is_image()) image = {{"height", data_.height}, {"width", data_.width}, {"channels", data_.channels}};
  json notes = json::array();
  if (!has_manifold())
    notes.push_back(c.family == "vae" ? "The decoded manifold needs a 2-D latent; this model's has " +
                                            std::to_string(latent_) + " dimensions."
                                      : "The decoded manifold maps quantiles of N(0, I); the " + c.family +
                                            " family's prior is not that, so there is none.");
  if (c.family == "autoencoder")
    notes.push_back("An autoencoder's posterior is a point: there is no sigma ellipse and no prior to sample.");
  if (c.family == "vae-2layer")
    notes.push_back("The scatter shows z1, the layer the decoder reads; its prior is p(z1|z2), not N(0, I).");
  if (model_.clusters() == 0) notes.push_back("Per-cluster samples need a cluster model (aevb train --family cluster).");
  if (!data_.has_labels()) notes.push_back("The data has no labels: points are not coloured by class.");
  if (!data_.is_image()) notes.push_back("The data has no image shape: decoded points are shown as values.");
  return {{"model", model_name_},
          {"family", c.family},
          {"latent", latent_},
          {"input_dim", c.input_dim},
          {"image", image},
          {"count", data_.count},
          {"data", data_.source},
          {"labels", data_.has_labels()},
          {"clusters", model_.clusters()},
          {"manifold", has_manifold()},
          {"notes", notes}};
}

ExploreSession::Plane ExploreSession::plane(const Projection& p) const {
  if (p.kind == Projection::Kind::pca) return {pca_center_, pca_axes_, pca_explained_};
  if (p.x >= latent_ || p.y >= latent_ || p.x == p.y)
    throw BadRequest("projection dims x=" + std::to_string(p.x) + " y=" + std::to_string(p.y) +
                     ": expected two different latent dimensions below " + std::to_string(latent_));
  Plane plane{pca_center_, {std::vector<double>(latent_, 0.0), std::vector<double>(latent_, 0.0)}, {}};
  // The chosen two vary from 0 (the prior's mean), the others stay at the data's mean.
  plane.center[p.x] = plane.center[p.y] = 0.0;
  plane.axes[0][p.x] = plane.axes[1][p.y] = 1.0;
  const double total = std::accumulate(dim_variance_.begin(), dim_variance_.end(), 0.0);
  if (total > 0) plane.explained = {dim_variance_[p.x] / total, dim_variance_[p.y] / total};
  return plane;
}

json ExploreSession::points(const Projection& projection) const {
  const Plane pl = plane(projection);
  json points = json::array();
  for (std::size_t r = 0; r < data_.count; ++r) {
    double u = 0, v = 0;
    for (std::size_t j = 0; j < latent_; ++j) {
      const double d = means_[r * latent_ + j] - pl.center[j];
      u += d * pl.axes[0][j];
      v += d * pl.axes[1][j];
    }
    points.push_back({u, v});
  }
  return {{"projection",
           {{"kind", projection.kind == Projection::Kind::pca ? "pca" : "dims"},
            {"x", projection.x},
            {"y", projection.y},
            {"center", pl.center},
            {"axes", {pl.axes[0], pl.axes[1]}},
            {"explained", pl.explained}}},
          {"points", std::move(points)},
          {"labels", data_.has_labels() ? json(data_.labels) : json(nullptr)},
          {"clusters", clusters_.empty() ? json(nullptr) : json(clusters_)}};
}

json ExploreSession::point(std::size_t index, const Projection& projection) const {
  checked_index(index, "i");
  const Plane pl = plane(projection);
  const float* mu = means_.data() + index * latent_;
  const float* sigma = sigmas_.data() + index * latent_;
  // q(z|x)'s covariance diag(sigma^2) seen on the plane: A diag(sigma^2) A^T.
  double cov[2][2] = {{0, 0}, {0, 0}};
  for (std::size_t j = 0; j < latent_; ++j) {
    const double s2 = double(sigma[j]) * sigma[j];
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b) cov[a][b] += pl.axes[a][j] * pl.axes[b][j] * s2;
  }
  const std::vector<float> mean(mu, mu + latent_);
  json probabilities = nullptr;
  if (!clusters_.empty())
    probabilities = vector_json(cluster_probabilities_.data() + index * model_.clusters(), model_.clusters());
  return {{"index", index},
          {"mean", mean},
          {"sigma", vector_json(sigma, latent_)},
          {"label", data_.has_labels() ? json(data_.labels[index]) : json(nullptr)},
          {"cluster", clusters_.empty() ? json(nullptr) : json(clusters_[index])},
          {"probabilities", probabilities},
          {"ellipse", {{cov[0][0], cov[0][1]}, {cov[1][0], cov[1][1]}}},
          {"input", {{"values", vector_json(inputs_.data() + index * data_.dim, data_.dim)}}},
          {"reconstruction", images(decode_rows_locked(mean))[0]}};
}

std::vector<float> ExploreSession::decode_rows_locked(const std::vector<float>& z) const {
  const std::lock_guard<std::mutex> lock(model_mutex_);
  return decode_rows(model_, z);
}

json ExploreSession::images(const std::vector<float>& x) const {
  const std::size_t dim = model_.config().input_dim;
  json out = json::array();
  for (std::size_t r = 0; r * dim < x.size(); ++r) out.push_back({{"values", vector_json(x.data() + r * dim, dim)}});
  return out;
}

json ExploreSession::decode(const std::vector<float>& z) const {
  const std::size_t rows = z.size() / latent_;
  if (rows == 0 || rows > ExploreLimits::decode_rows || z.size() % latent_ != 0)
    throw BadRequest("decode: expected 1 to " + std::to_string(ExploreLimits::decode_rows) + " rows of " +
                     std::to_string(latent_) + " numbers");
  for (float v : z)
    if (!(std::abs(v) <= ExploreLimits::latent_magnitude))
      throw BadRequest("decode: latent values must be finite numbers within +-" +
                       std::to_string(int(ExploreLimits::latent_magnitude)));
  return {{"images", images(decode_rows_locked(z))}};
}

json ExploreSession::interpolate(std::size_t a, std::size_t b, std::size_t steps, Interpolation path) const {
  checked_index(a, "a");
  checked_index(b, "b");
  if (steps < 2 || steps > ExploreLimits::interpolation_steps)
    throw BadRequest("steps " + std::to_string(steps) + ": expected 2 to " +
                     std::to_string(ExploreLimits::interpolation_steps));
  const std::vector<float> z = interpolation_latents({means_.data() + a * latent_, latent_},
                                                     {means_.data() + b * latent_, latent_}, steps, path);
  json rows = json::array();
  for (std::size_t k = 0; k < steps; ++k) rows.push_back(vector_json(z.data() + k * latent_, latent_));
  return {{"z", std::move(rows)}, {"images", images(decode_rows_locked(z))}};
}

json ExploreSession::grid(std::size_t steps) const {
  if (!has_manifold())
    throw BadRequest(model_.config().family == "vae"
                         ? "grid: the manifold needs a 2-D latent; this model's has " + std::to_string(latent_)
                         : "grid: the manifold maps quantiles of N(0, I), which is not the " +
                               model_.config().family + " family's prior");
  if (steps < 2 || steps > ExploreLimits::grid_steps)
    throw BadRequest("n " + std::to_string(steps) + ": expected 2 to " + std::to_string(ExploreLimits::grid_steps));
  const std::vector<float> z = manifold_latents(latent_, steps, 0, 1);
  json rows = json::array();
  for (std::size_t k = 0; k < steps * steps; ++k) rows.push_back(vector_json(z.data() + k * latent_, latent_));
  return {{"n", steps}, {"z", std::move(rows)}, {"images", images(decode_rows_locked(z))}};
}

json ExploreSession::neighbours(std::size_t index, std::size_t k) const {
  checked_index(index, "i");
  if (k < 1 || k > ExploreLimits::neighbours)
    throw BadRequest("k " + std::to_string(k) + ": expected 1 to " + std::to_string(ExploreLimits::neighbours));
  std::vector<std::pair<double, std::size_t>> d;
  d.reserve(data_.count);
  const float* a = means_.data() + index * latent_;
  for (std::size_t r = 0; r < data_.count; ++r) {
    if (r == index) continue;
    double s = 0;
    for (std::size_t j = 0; j < latent_; ++j) {
      const double diff = double(means_[r * latent_ + j]) - a[j];
      s += diff * diff;
    }
    d.emplace_back(std::sqrt(s), r);
  }
  const std::size_t n = std::min(k, d.size());
  std::partial_sort(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(n), d.end());  // ties: lower index first
  json list = json::array();
  for (std::size_t i = 0; i < n; ++i)
    list.push_back({{"index", d[i].second},
                    {"distance", d[i].first},
                    {"label", data_.has_labels() ? json(data_.labels[d[i].second]) : json(nullptr)}});
  return {{"index", index}, {"neighbours", std::move(list)}};
}

json ExploreSession::cluster_samples(std::size_t per_cluster) const {
  const std::size_t k = model_.clusters();
  if (k == 0) throw BadRequest("cluster_samples: the " + model_.config().family + " family has no clusters");
  if (per_cluster < 1 || per_cluster > ExploreLimits::cluster_samples)
    throw BadRequest("n " + std::to_string(per_cluster) + ": expected 1 to " +
                     std::to_string(ExploreLimits::cluster_samples));
  const std::size_t dim = model_.config().input_dim;
  json samples = json::array();
  std::vector<float> x(per_cluster * dim);
  for (std::size_t y = 0; y < k; ++y) {
    {
      const std::lock_guard<std::mutex> lock(model_mutex_);
      model_.sample_cluster(y, 1, {x.data(), per_cluster, dim});  // aevb sample --per-cluster's default seed
    }
    samples.push_back(images(x));
  }
  return {{"clusters", k}, {"samples", std::move(samples)}};
}

}  // namespace aevb::cli
