// The HTML report and base64: RFC 4648 vectors, a data: URI that decodes back
// to the PNG bytes, escaped text everywhere, and nothing fetched from outside.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "aevb/error.hpp"
#include "aevb/vae.hpp"
#include "unit/viz_xml_check.hpp"
#include "viz/base64.hpp"
#include "viz/confusion_svg.hpp"
#include "viz/curve_svg.hpp"
#include "viz/image_grid.hpp"
#include "viz/png.hpp"
#include "viz/report_html.hpp"
#include "viz/run_report.hpp"

namespace aevb::viz {
namespace {

TEST(VizBase64, Rfc4648TestVectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""},          {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded) << plain;
    EXPECT_EQ(base64_decode(encoded), plain) << encoded;
  }
}

TEST(VizBase64, AllByteValuesRoundTrip) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  for (std::size_t n = 0; n <= bytes.size(); n += 37) {
    const std::string part = bytes.substr(0, n);
    const std::string enc = base64_encode(part);
    EXPECT_EQ(enc.size(), (n + 2) / 3 * 4);
    EXPECT_EQ(base64_decode(enc), part);
  }
  EXPECT_EQ(base64_encode("\xFF\xFE\xFD"), "//79");
  EXPECT_EQ(base64_encode(std::string("\x00\x00", 2)), "AAA=");
}

TEST(VizBase64, DecodeRefusesInvalidText) {
  EXPECT_THROW(base64_decode("Zm9"), InputError);       // length
  EXPECT_THROW(base64_decode("Zm9v!A=="), InputError);  // alphabet
  EXPECT_THROW(base64_decode("Zg==Zm9v"), InputError);  // padding in the middle
  EXPECT_THROW(base64_decode("Z==="), InputError);      // too much padding
  EXPECT_THROW(base64_decode("Zm=v"), InputError);      // data after padding
}

// The value of the first src="..." attribute after `from`.
std::string src_after(const std::string& html, std::size_t from = 0) {
  const std::size_t p = html.find("src=\"", from);
  if (p == std::string::npos) return "";
  const std::size_t q = html.find('"', p + 5);
  return html.substr(p + 5, q - p - 5);
}

TEST(VizReport, EmbedsPngAsDataUriThatDecodesBack) {
  Image8 img(28, 28, 1);
  for (int y = 0; y < 28; ++y) {
    for (int x = 0; x < 28; ++x) img.at(x, y) = static_cast<std::uint8_t>(x * 9 + y);
  }
  const std::string png = encode_png(img);
  Report report("Run <1> & \"friends\"");
  report.add_png(png, "Samples from the prior", "samples");
  const std::string html = report.render();

  EXPECT_NE(html.find("<title>Run &lt;1&gt; &amp; &quot;friends&quot;</title>"), std::string::npos);
  EXPECT_NE(html.find("<h1>Run &lt;1&gt; &amp; &quot;friends&quot;</h1>"), std::string::npos);
  const std::string src = src_after(html);
  const std::string prefix = "data:image/png;base64,";
  ASSERT_EQ(src.rfind(prefix, 0), 0u) << src.substr(0, 40);
  const std::string decoded = base64_decode(src.substr(prefix.size()));
  EXPECT_EQ(decoded, png);
  EXPECT_EQ(decode_png(decoded).pixels, img.pixels);
  // 28 pixels shown 8x larger (the limit), with a caption and alt text.
  EXPECT_NE(html.find("alt=\"samples\" width=\"224\" height=\"224\""), std::string::npos);
  EXPECT_NE(html.find("<figcaption>Samples from the prior</figcaption>"), std::string::npos);
  EXPECT_EQ(testing::check_markup(html, true), "");
}

// A run of the cluster family: the confusion matrix as a figure (well-formed,
// every count shown), the cluster scores in the results, the samples a row
// per cluster, and no N(0, I) manifold (its prior is a mixture).
TEST(VizReport, AClusterRunShowsItsConfusionMatrixAndARowOfSamplesPerCluster) {
  const std::vector<std::vector<std::uint64_t>> confusion = {{40, 2, 0}, {1, 0, 57}, {3, 30, 1}, {0, 0, 9}};
  const std::string svg = render_confusion_svg(confusion, "clusters <&>");
  EXPECT_EQ(testing::check_markup(svg, false), "");
  for (const char* count : {">40<", ">57<", ">30<", ">9<"}) EXPECT_NE(svg.find(count), std::string::npos) << count;
  EXPECT_NE(svg.find("clusters &lt;&amp;&gt;"), std::string::npos);

  ModelConfig c;
  c.family = "cluster";
  c.input_dim = 16;
  c.image_height = c.image_width = 4;
  c.hidden = {8};
  c.latent = 3;
  c.clusters = 4;
  const Vae model(c, 1);
  RunReportInputs in;
  in.title = "cluster run";
  in.model = &model;
  in.evaluation = nlohmann::json{{"data", "mnist test"}, {"cluster_accuracy", 0.75}, {"cluster_accuracy_majority", 0.8},
                                 {"nmi", 0.6}, {"ari", 0.5}, {"confusion", confusion}};
  const RunFigures f = render_run_report(in);
  EXPECT_NE(f.report_html.find("datapoints by class, mnist test"), std::string::npos);
  EXPECT_NE(f.report_html.find("cluster accuracy (Hungarian, one-to-one)"), std::string::npos);
  EXPECT_NE(f.report_html.find("0.75"), std::string::npos);
  const Image8 samples = decode_png(f.samples_png);
  EXPECT_EQ(samples.height, 2 * (4 * (4 + 1) + 1)) << "4 clusters, a row each, at scale 2";
  EXPECT_EQ(samples.width, 2 * (10 * (4 + 1) + 1)) << "10 samples per cluster";
  EXPECT_TRUE(f.manifold_png.empty());
}

// A run of the conditional family: a row of samples per class, no N(0, I)
// manifold (its decoder needs a class), and each example reconstructed given
// its own label, as the library decodes it.
TEST(VizReport, AConditionalRunShowsARowPerClassAndReconstructsGivenEachLabel) {
  ModelConfig c;
  c.family = "cvae";
  c.input_dim = 16;
  c.image_height = c.image_width = 4;
  c.hidden = {8};
  c.latent = 3;
  c.classes = 3;
  c.init = Init::glorot;  // a decoder whose output depends on the label
  const Vae model(c, 2);
  const std::size_t labels[] = {0, 2, 1, 2}, width = 16 + 3;
  std::vector<float> rows(4 * width, 0.0f), values(4 * 16);
  for (std::size_t r = 0; r < 4; ++r) {
    for (std::size_t p = 0; p < 16; ++p) rows[r * width + p] = values[r * 16 + p] = float((r * 7 + p * 3) % 5) / 4;
    rows[r * width + 16 + labels[r]] = 1.0f;
  }
  RunReportInputs in;
  in.title = "conditional run";
  in.model = &model;
  in.examples = {rows.data(), 4, width};
  const RunFigures f = render_run_report(in);
  const Image8 samples = decode_png(f.samples_png);
  EXPECT_EQ(samples.height, 2 * (3 * (4 + 1) + 1)) << "3 classes, a row each, at scale 2";
  EXPECT_TRUE(f.manifold_png.empty());

  std::vector<float> mu(4 * 3), logvar(4 * 3), recon(4 * 16);
  model.encode({rows.data(), 4, width}, {mu.data(), 4, 3}, {logvar.data(), 4, 3});
  for (std::size_t r = 0; r < 4; ++r)
    model.decode_class({mu.data() + r * 3, 1, 3}, labels[r], {recon.data() + r * 16, 1, 16});
  GridStyle style;
  style.scale = 2;
  EXPECT_EQ(f.reconstructions_png,
            encode_png(reconstruction_grid({values.data(), 4, 16}, {recon.data(), 4, 16}, 4, 4, 1, style)));
}

TEST(VizReport, TablesSvgAndTextAreEscapedAndSelfContained) {
  CurveSeries train{"train", {1e3, 1e4, 1e5}, {-140, -110, -100}, "", false};
  Report report("MNIST");
  report.add_heading("Numbers <&>")
      .add_table({{"test ELBO", -99.31234567},
                  {"epochs", 10},
                  {"zero", 0},
                  {"samples seen", std::size_t{60000000}},
                  {"as double", 6e7},
                  {"likelihood", "bernoulli <x>"},
                  {"converged", true}},
                 "Results & more")
      .add_paragraph("a < b && c > d")
      .add_svg("<?xml version=\"1.0\"?>\n" + render_curve_svg({train}), "Figure 2: \"bound\"");
  const std::string html = report.render();
  EXPECT_NE(html.find("<h2>Numbers &lt;&amp;&gt;</h2>"), std::string::npos);
  EXPECT_NE(html.find("<caption>Results &amp; more</caption>"), std::string::npos);
  EXPECT_NE(html.find("<th scope=\"row\">test ELBO</th><td>-99.3123</td>"), std::string::npos);
  EXPECT_NE(html.find("<th scope=\"row\">epochs</th><td>10</td>"), std::string::npos);
  EXPECT_NE(html.find("<th scope=\"row\">zero</th><td>0</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>60000000</td></tr>\n<tr><th scope=\"row\">as double</th><td>60000000</td>"),
            std::string::npos);
  EXPECT_NE(html.find("<td>bernoulli &lt;x&gt;</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>yes</td>"), std::string::npos);
  EXPECT_NE(html.find("<p>a &lt; b &amp;&amp; c &gt; d</p>"), std::string::npos);
  EXPECT_NE(html.find("<figcaption>Figure 2: &quot;bound&quot;</figcaption>"), std::string::npos);
  EXPECT_EQ(html.find("<?xml"), std::string::npos);  // declaration dropped when inlined
  EXPECT_NE(html.find("<svg xmlns="), std::string::npos);
  EXPECT_NE(html.find("<polyline"), std::string::npos);
  EXPECT_EQ(testing::check_markup(html, true), "");
  // Offline: no scripts, stylesheets, fonts or images from elsewhere.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<meta charset=\"utf-8\">"), std::string::npos);
}

TEST(VizReport, RefusesFiguresThatAreNotWhatTheySay) {
  Report report("x");
  EXPECT_THROW(report.add_png("GIF89a not a png at all, sorry, long enough"), InputError);
  EXPECT_THROW(report.add_png(""), InputError);
  EXPECT_THROW(report.add_svg("<html></html>"), InputError);
  EXPECT_THROW(report.add_svg("<svg xmlns=\"http://www.w3.org/2000/svg\">"), InputError);
  EXPECT_NO_THROW(report.add_svg("  <svg xmlns=\"http://www.w3.org/2000/svg\"></svg>"));
}

TEST(VizReport, NumbersAreFormattedPlainly) {
  EXPECT_EQ(format_number(-99.31234567), "-99.3123");
  EXPECT_EQ(format_number(60000.0), "60000");
  EXPECT_EQ(format_number(0.000123456789), "0.000123457");
  EXPECT_EQ(format_number(-0.0), "0");
  EXPECT_EQ(format_number(std::numeric_limits<double>::quiet_NaN()), "nan");
  EXPECT_EQ(ReportRow("k", 1.25f).value, "1.25");
  EXPECT_EQ(ReportRow("k", -7).value, "-7");
  EXPECT_EQ(ReportRow("k", 2.0 / 3.0, 3).value, "0.667");
}

}  // namespace
}  // namespace aevb::viz
