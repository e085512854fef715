#include "explore_export.hpp"

#include "model_use.hpp"

#include "viz/image_grid.hpp"
#include "viz/png.hpp"

#include <cmath>
#include <cstdio>

namespace aevb::cli {
namespace {

// The projector's limit on a sprite's side (its documentation: 8192 pixels).
constexpr std::size_t kSpriteSide = 8192;

std::string vectors_tsv(const ExploreSession& s) {
  std::string out;
  char number[32];
  for (std::size_t r = 0; r < s.count(); ++r) {
    for (std::size_t j = 0; j < s.latent(); ++j) {
      // %.9g: every float32 reads back exactly.
      std::snprintf(number, sizeof number, "%s%.9g", j ? "\t" : "", double(s.means()[r * s.latent() + j]));
      out += number;
    }
    out += '\n';
  }
  return out;
}

std::string metadata_tsv(const ExploreSession& s) {
  const bool labels = s.data().has_labels(), clusters = !s.clusters().empty();
  std::string out = std::string("index") + (labels ? "\tlabel" : "") + (clusters ? "\tcluster" : "") + "\n";
  for (std::size_t r = 0; r < s.count(); ++r) {
    out += std::to_string(r);
    if (labels) out += "\t" + std::to_string(s.data().labels[r]);
    if (clusters) out += "\t" + std::to_string(s.clusters()[r]);
    out += '\n';
  }
  return out;
}

}  // namespace

std::string export_projector(const ExploreSession& s, const std::filesystem::path& dir) {
  std::vector<std::pair<std::filesystem::path, std::string>> files = {{dir / "vectors.tsv", vectors_tsv(s)},
                                                                      {dir / "metadata.tsv", metadata_tsv(s)}};
  std::string config = "embeddings {\n  tensor_path: \"vectors.tsv\"\n  metadata_path: \"metadata.tsv\"\n";
  std::string sprite_note = "no sprite (the data has no image shape)";
  const Dataset& d = s.data();
  if (d.is_image()) {
    // The projector reads the sprite as a square grid of equal cells, row by row, no padding.
    const std::size_t columns = static_cast<std::size_t>(std::ceil(std::sqrt(double(s.count()))));
    if (columns * std::max(d.width, d.height) > kSpriteSide) {
      sprite_note = "no sprite: " + std::to_string(s.count()) + " images of " + std::to_string(d.width) + "x" +
                    std::to_string(d.height) + " exceed the projector's " + std::to_string(kSpriteSide) +
                    " pixels a side (fewer with --limit)";
    } else {
      const viz::GridStyle style{static_cast<int>(columns), 0, 0.0f, 1};
      const viz::Image8 sprite = viz::tile_images({s.inputs().data(), s.count(), d.dim}, int(d.height),
                                                  int(d.width), int(d.channels), style);
      files.emplace_back(dir / "sprite.png", viz::encode_png(sprite));
      config += "  sprite {\n    image_path: \"sprite.png\"\n    single_image_dim: " + std::to_string(d.width) +
                "\n    single_image_dim: " + std::to_string(d.height) + "\n  }\n";
      sprite_note = "sprite.png (" + pixel_size(sprite) + ")";
    }
  }
  config += "}\n";
  files.emplace_back(dir / "projector_config.pbtxt", config);
  write_outputs(files);
  return "wrote " + dir.string() + ": vectors.tsv (" + std::to_string(s.count()) + " posterior means of " +
         std::to_string(s.latent()) + " dimensions), metadata.tsv, " + sprite_note + ", projector_config.pbtxt";
}

}  // namespace aevb::cli
