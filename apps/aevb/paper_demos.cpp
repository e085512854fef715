#include "paper_demos.hpp"

#include "io/config_json.hpp"
#include "io/file_bytes.hpp"
#include "viz/curve_svg.hpp"
#include "viz/figure_panels.hpp"
#include "viz/markup.hpp"

#include <cmath>
#include <optional>
#include <string>
#include <tuple>

namespace aevb::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A run's `aevb eval --regularity --json` output, when it has finished.
std::optional<json> regularity_of(const fs::path& out, const std::string& id) {
  const fs::path file = run_dir(out, id) / "regularity.json";
  if (!fs::exists(file)) return std::nullopt;
  return parse_json_strict(read_file_bytes(file), file.string());
}

double field(const json& eval, const char* key) { return eval["regularity"].value(key, NAN); }

void add_autoencoder_demo(const fs::path& out, PaperPage& page) {
  const char* vae_id = "fig2-mnist-nz20-aevb";  // paper_plan.cpp: Fig. 2's VAE is the one compared
  const char* ae_id = "demo-autoencoder";
  const auto vae = regularity_of(out, vae_id), ae = regularity_of(out, ae_id);
  json entry = json::object();
  for (const auto& [key, r] : {std::pair{"vae", vae}, std::pair{"autoencoder", ae}})
    if (r) entry[key] = (*r)["regularity"];
  page.results["figures"]["autoencoder"] = entry;

  std::vector<viz::CaptionedImage> draws, lines;
  for (const auto& [id, name, r] : {std::tuple{vae_id, "VAE", vae}, std::tuple{ae_id, "autoencoder", ae}}) {
    if (auto m = run_image(out, id, "normal-draws.png"))
      draws.push_back({*m, r ? std::string(name) + ": NN ratio " + page_number(field(*r, "nn_ratio")) : name});
    if (auto m = run_image(out, id, "interpolation.png")) lines.push_back({*m, name});
  }
  std::vector<std::string> rows;
  if (!draws.empty()) rows.push_back(viz::compose_image_row(draws, "z ~ N(0, I), decoded"));
  if (!lines.empty()) rows.push_back(viz::compose_image_row(lines, "Lines between test images' codes"));
  if (!rows.empty()) {
    const std::string svg =
        viz::compose_svg_panels(rows, 1, "Autoencoder against VAE (MNIST, 784-500-20)");
    write_figure(out, "demo-autoencoder", svg);
    page.figures.push_back({"Demonstration: why a plain autoencoder cannot generate", svg,
                            "Both decode the same draws z ~ N(0, I) and the same lines between the first ten "
                            "test images' codes. NN ratio: the decoded draws' mean squared distance to the nearest "
                            "of 5000 test images, over that of 1000 other test images' decoded codes"});
  }
  std::optional<bool> reproduced;
  std::string evidence = "not run";
  if (vae && ae) {
    const double vae_kl = field(*vae, "code_kl_to_prior"), ae_kl = field(*ae, "code_kl_to_prior");
    const double vae_ratio = field(*vae, "nn_ratio"), ae_ratio = field(*ae, "nn_ratio");
    reproduced = ae_kl > vae_kl && ae_ratio > vae_ratio;
    evidence = "KL of the codes' Gaussian to N(0, I): autoencoder " + page_number(ae_kl) + " nats, VAE " +
               page_number(vae_kl) + "; NN ratio of decoded N(0, I) draws: autoencoder " + page_number(ae_ratio) +
               ", VAE " + page_number(vae_ratio);
  }
  page.claims.push_back({"autoencoder",
                         "a plain autoencoder's latent space is not regular: its codes lie farther from N(0, I) and "
                         "its decoded N(0, I) draws farther from the data than the VAE's",
                         evidence, reproduced});
}

// Whether v rises (sign 1) or falls (sign -1) strictly from each value to the next; nullopt for fewer than 2.
std::optional<bool> strictly_monotone(const std::vector<double>& v, int sign) {
  if (v.size() < 2) return std::nullopt;
  for (std::size_t i = 1; i < v.size(); ++i)
    if (!(sign * (v[i] - v[i - 1]) > 0)) return false;
  return true;
}

void add_variance_demo(const fs::path& out, PaperPage& page) {
  std::vector<double> c, mse, kl, ratio;
  std::vector<viz::CaptionedImage> samples;
  json entry = json::array();
  for (double v : kDecoderVariances) {
    const std::string id = variance_run_id(v);
    const auto r = regularity_of(out, id);
    if (!r) continue;
    c.push_back(v);
    mse.push_back(field(*r, "reconstruction_mse"));
    kl.push_back(r->value("kl", NAN));
    ratio.push_back(field(*r, "nn_ratio"));
    entry.push_back({{"variance", v}, {"reconstruction_mse", mse.back()}, {"kl", kl.back()},
                     {"nn_ratio", ratio.back()}, {"code_kl_to_prior", field(*r, "code_kl_to_prior")},
                     {"elbo", r->value("elbo", NAN)}});
    if (auto m = run_image(out, id, "samples.png")) samples.push_back({*m, "c = " + viz::format_general(v)});
  }
  page.results["figures"]["variance"] = entry;
  if (!c.empty()) {
    auto panel = [&](const std::vector<double>& y, const std::string& title, const std::string& label) {
      viz::CurveOptions o;
      o.title = title;
      o.x_label = "decoder variance c";
      o.y_label = label;
      o.width = 400, o.height = 280;
      return viz::render_curve_svg({{"", c, y, "#1f77b4", false}}, o);
    };
    std::vector<std::string> parts = {viz::compose_svg_panels(
        {panel(mse, "Reconstruction error", "MSE per pixel (test images)"),
         panel(kl, "KL(q(z|x) || p(z))", "nats per datapoint"),
         panel(ratio, "Regularity", "NN ratio of decoded N(0, I)")},
        3, "Against c (log scale)")};
    if (!samples.empty()) parts.push_back(viz::compose_image_row(samples, "Samples: z ~ N(0, I), decoded means"));
    const std::string svg = viz::compose_svg_panels(
        parts, 1, "The Gaussian decoder's variance c: reconstruction against regularity (grey MNIST, 784-500-20)");
    write_figure(out, "demo-variance", svg);
    page.figures.push_back({"Demonstration: the decoder variance c", svg,
                            "log p(x|z) = -||x - f(z)||^2 / 2c + const: a small c makes reconstruction dominate the "
                            "KL, a large one the reverse"});
  }
  const auto mse_rises = strictly_monotone(mse, 1), kl_falls = strictly_monotone(kl, -1);
  std::string evidence = "not run";
  if (!c.empty()) {
    evidence.clear();
    for (std::size_t i = 0; i < c.size(); ++i)
      evidence += (i ? "; c = " : "c = ") + viz::format_general(c[i]) + ": MSE " + page_number(mse[i]) + ", KL " +
                  page_number(kl[i]);
  }
  page.claims.push_back({"variance",
                         "a larger decoder variance c trades reconstruction for regularity: the reconstruction error "
                         "rises and the KL falls from each c to the next",
                         evidence,
                         mse_rises && kl_falls ? std::optional<bool>(*mse_rises && *kl_falls) : std::nullopt});
}

}  // namespace

void add_demo_results(const PaperOptions& options, const fs::path& out, PaperPage& page) {
  if (options.wants("autoencoder")) add_autoencoder_demo(out, page);
  if (options.wants("variance")) add_variance_demo(out, page);
}

}  // namespace aevb::cli
