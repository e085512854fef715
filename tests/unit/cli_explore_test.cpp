// End-to-end: `aevb explore` as a server, spoken to over a socket. Its answers
// must equal what the other commands compute (aevb encode's means, aevb
// decode's images, the library's interpolation and manifold points, neighbours
// by brute force); hostile requests get a 4xx and leave it serving; a second
// instance on the same port, Ctrl-C and a non-loopback address behave as
// docs/explore.md says; --export writes the projector's files.
#include "support/cli_runner.hpp"

#include "eval/latent_grid.hpp"
#include "io/model_file.hpp"
#include "viz/png.hpp"

#include <aevb/data.hpp>
#include <aevb/vae.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace aevb {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::CliResult;

constexpr std::size_t kCount = 60;  // MNIST test images the servers explore

struct HttpReply {
  int status = 0;
  std::string body;
};

// One HTTP/1.1 request on a fresh connection, the path sent byte for byte as
// given (so that "/../" reaches the server unnormalized). Status 0: no answer.
HttpReply http(int port, const std::string& method, const std::string& path, const std::string& body = "") {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  HttpReply reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (method != "GET") request += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    request += "\r\n" + body;
    for (std::size_t sent = 0; sent < request.size();) {
      const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    std::string raw;
    char buffer[65536];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) raw.append(buffer, static_cast<std::size_t>(n));
    std::smatch m;
    if (std::regex_search(raw, m, std::regex("^HTTP/1\\.1 (\\d{3})"))) reply.status = std::stoi(m[1]);
    if (const auto at = raw.find("\r\n\r\n"); at != std::string::npos) reply.body = raw.substr(at + 4);
  }
  ::close(fd);
  return reply;
}

// A started `aevb explore --port 0` and the port it printed.
struct Server {
  test::CliChild child;
  int port = 0;
};

class CliExplore : public ::testing::Test {
 protected:
  static inline fs::path dir;
  static inline std::string model2, model3, cluster_model;
  static inline Server server2, server3, server_cluster;
  static inline std::vector<float> means2;  // aevb encode's means of the explored images, [kCount, 2]

  static std::map<std::string, std::string> env() { return {{"AEVB_DATA_DIR", AEVB_SOURCE_DIR "/../shared/data"}}; }
  static CliResult run(const std::vector<std::string>& args) { return test::run_cli(test::cli_path(), args, dir, env()); }
  static std::string path(const std::string& name) { return (dir / name).string(); }
  static std::vector<std::string> data_flags() { return {"--data", "mnist", "--split", "test", "--limit", std::to_string(kCount)}; }

  // Starts a server on `model` and waits (up to 60 s) for its "serving" line.
  static Server start(const std::string& model, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"explore", "--model", model, "--port", "0", "--threads", "1"};
    for (const auto& a : data_flags()) args.push_back(a);
    args.insert(args.end(), extra.begin(), extra.end());
    Server s{test::start_cli(test::cli_path(), args, dir, env()), 0};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    const std::regex serving("serving http://[^:]+:(\\d+)/");
    while (std::chrono::steady_clock::now() < deadline && s.child.pid > 0) {
      std::smatch m;
      const std::string out = test::read_text_file(s.child.out_file);
      if (std::regex_search(out, m, serving)) {
        s.port = std::stoi(m[1]);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return s;
  }
  static CliResult stop(const Server& s, int signal) {
    if (s.child.pid > 0) ::kill(s.child.pid, signal);
    return test::wait_cli(s.child);
  }

  static void SetUpTestSuite() {
    if (test::cli_path().empty()) return;
    dir = fs::temp_directory_path() / ("aevb_cli_explore_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    auto save = [](ModelConfig c, const std::string& name, std::uint64_t seed) {
      c.input_dim = 784;
      c.hidden = {32};
      c.init = Init::glorot;  // outputs that vary from one input to the next
      c.image_height = c.image_width = 28;
      save_model(path(name), Vae(c, seed), {{"binarize", "none"}});
      return path(name);
    };
    ModelConfig c;
    c.latent = 2;
    model2 = save(c, "model2.safetensors", 9);
    c.latent = 3;
    model3 = save(c, "model3.safetensors", 10);
    c.family = "cluster";
    c.latent = 4;
    c.clusters = 3;
    c.classifier_hidden = {8};
    cluster_model = save(c, "cluster.safetensors", 5);
    std::vector<std::string> encode = {"encode", "--model", model2, "--out", path("means2.csv")};
    for (const auto& a : data_flags()) encode.push_back(a);
    if (run(encode).exit_code == 0) {
      const Table t = read_table(path("means2.csv"));  // means, then variances
      for (std::size_t r = 0; r < t.rows; ++r) means2.insert(means2.end(), &t.values[r * 4], &t.values[r * 4 + 2]);
    }
    server2 = start(model2);
    server3 = start(model3);
    server_cluster = start(cluster_model);
  }
  static void TearDownTestSuite() {
    for (const Server* s : {&server2, &server3, &server_cluster}) stop(*s, SIGTERM);
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
  void SetUp() override {
    if (test::cli_path().empty()) GTEST_SKIP() << "this build has no aevb CLI";
    ASSERT_GT(server2.port, 0) << "the latent-2 server did not start";
    ASSERT_EQ(means2.size(), kCount * 2) << "aevb encode failed";
  }

  static json get(const Server& s, const std::string& target) {
    const HttpReply r = http(s.port, "GET", target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return r.status == 200 ? json::parse(r.body) : json();
  }
  static json post(const Server& s, const std::string& target, const json& body) {
    const HttpReply r = http(s.port, "POST", target, body.dump());
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return r.status == 200 ? json::parse(r.body) : json();
  }
  // aevb decode's E[x|z] of the rows of `z` (latent floats each), via a CSV file.
  static std::vector<float> decoded_by_cli(const std::string& model, const std::vector<float>& z, std::size_t latent) {
    std::ostringstream csv;
    csv.precision(9);
    for (std::size_t r = 0; r < z.size() / latent; ++r)
      for (std::size_t j = 0; j < latent; ++j) csv << z[r * latent + j] << (j + 1 < latent ? "," : "\n");
    std::ofstream(path("z.csv")) << csv.str();
    const CliResult r = run({"decode", "--model", model, "--latents", path("z.csv"), "--npy", path("x.npy")});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? read_table(path("x.npy")).values : std::vector<float>{};
  }
  static void expect_images(const json& images, const std::vector<float>& want) {
    std::vector<float> got;
    for (const json& image : images)
      for (const json& v : image["values"]) got.push_back(v.get<float>());
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t k = 0; k < got.size(); ++k) ASSERT_EQ(got[k], want[k]) << "value " << k;
  }
};

TEST_F(CliExplore, InfoAndPointsDescribeTheModelAndTheData) {
  const json info = get(server2, "/api/info");
  EXPECT_EQ(info["family"], "vae");
  EXPECT_EQ(info["latent"], 2);
  EXPECT_EQ(info["count"], kCount);
  EXPECT_EQ(info["labels"], true);
  EXPECT_EQ(info["manifold"], true);
  EXPECT_EQ(info["image"]["width"], 28);
  const json points = get(server2, "/api/points");  // a 2-D latent: the two dimensions themselves
  EXPECT_EQ(points["projection"]["kind"], "dims");
  ASSERT_EQ(points["points"].size(), kCount);
  const fs::path data_dir = AEVB_SOURCE_DIR "/../shared/data";
  const Dataset d = first_rows(resolve_dataset("mnist", Split::test, {&data_dir, 1}), kCount);
  for (std::size_t r = 0; r < kCount; ++r) {
    EXPECT_EQ(points["points"][r][0].get<float>(), means2[r * 2]) << "point " << r;
    EXPECT_EQ(points["points"][r][1].get<float>(), means2[r * 2 + 1]) << "point " << r;
    EXPECT_EQ(points["labels"][r], d.labels[r]);
  }
  EXPECT_TRUE(points["clusters"].is_null());
}

// PCA of a 3-D latent: orthonormal axes, shares of variance that add up to at
// most 1 in decreasing order, and coordinates that are the projections of the
// posterior means (/api/point) on them.
TEST_F(CliExplore, PcaCoordinatesAreProjectionsOfTheMeans) {
  const json points = get(server3, "/api/points?projection=pca");
  const json& p = points["projection"];
  ASSERT_EQ(p["kind"], "pca");
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) {
      double dot = 0;
      for (int j = 0; j < 3; ++j) dot += p["axes"][a][j].get<double>() * p["axes"][b][j].get<double>();
      EXPECT_NEAR(dot, a == b ? 1.0 : 0.0, 1e-9);
    }
  EXPECT_GE(p["explained"][0].get<double>(), p["explained"][1].get<double>());
  EXPECT_LE(p["explained"][0].get<double>() + p["explained"][1].get<double>(), 1.0 + 1e-12);
  for (std::size_t r : {0u, 17u, 59u}) {
    const json point = get(server3, "/api/point?i=" + std::to_string(r) + "&projection=pca");
    for (int a = 0; a < 2; ++a) {
      double u = 0;
      for (int j = 0; j < 3; ++j)
        u += (point["mean"][j].get<double>() - p["center"][j].get<double>()) * p["axes"][a][j].get<double>();
      EXPECT_NEAR(points["points"][r][a].get<double>(), u, 1e-9);
    }
  }
}

TEST_F(CliExplore, APointsReconstructionAndDecodeEqualAevbDecode) {
  const json point = get(server2, "/api/point?i=7");
  EXPECT_EQ(point["mean"][0].get<float>(), means2[14]);
  EXPECT_EQ(point["mean"][1].get<float>(), means2[15]);
  // Its sigma ellipse on the plane of dims 0 and 1 is diag(sigma^2).
  EXPECT_DOUBLE_EQ(point["ellipse"][0][0].get<double>(),
                   point["sigma"][0].get<double>() * point["sigma"][0].get<double>());
  EXPECT_EQ(point["ellipse"][0][1].get<double>(), 0.0);
  const std::vector<float> z = {means2[14], means2[15]};
  expect_images(json::array({point["reconstruction"]}), decoded_by_cli(model2, z, 2));
  const std::vector<float> several = {0.5f, -1.25f, 3.0f, 0.0f, -2.0f, 2.0f};
  expect_images(post(server2, "/api/decode", {{"z", {{0.5, -1.25}, {3.0, 0.0}, {-2.0, 2.0}}}})["images"],
                decoded_by_cli(model2, several, 2));
}

TEST_F(CliExplore, InterpolationsAndTheManifoldAreTheLibrarysPoints) {
  for (const auto& [mode, path] : {std::pair{"linear", Interpolation::linear}, std::pair{"slerp", Interpolation::spherical}}) {
    const json reply = post(server2, "/api/interpolate", {{"a", 3}, {"b", 11}, {"steps", 6}, {"mode", mode}});
    const std::vector<float> want = interpolation_latents({&means2[6], 2}, {&means2[22], 2}, 6, path);
    std::vector<float> got;
    for (const json& row : reply["z"])
      for (const json& v : row) got.push_back(v.get<float>());
    EXPECT_EQ(got, want) << mode;
    expect_images(reply["images"], decoded_by_cli(model2, want, 2));
  }
  const json grid = get(server2, "/api/grid?n=4");
  const std::vector<float> want = manifold_latents(2, 4, 0, 1);
  std::vector<float> got;
  for (const json& row : grid["z"])
    for (const json& v : row) got.push_back(v.get<float>());
  EXPECT_EQ(got, want);
  expect_images(grid["images"], decoded_by_cli(model2, want, 2));
}

TEST_F(CliExplore, NeighboursAreTheClosestMeansByBruteForce) {
  const std::size_t i = 5, k = 6;
  std::vector<std::pair<double, std::size_t>> all;
  for (std::size_t r = 0; r < kCount; ++r)
    if (r != i) all.emplace_back(std::hypot(double(means2[r * 2]) - means2[i * 2], double(means2[r * 2 + 1]) - means2[i * 2 + 1]), r);
  std::sort(all.begin(), all.end());
  const json reply = get(server2, "/api/neighbours?i=5&k=6");
  ASSERT_EQ(reply["neighbours"].size(), k);
  for (std::size_t n = 0; n < k; ++n) {
    EXPECT_EQ(reply["neighbours"][n]["index"], all[n].second) << "neighbour " << n;
    EXPECT_NEAR(reply["neighbours"][n]["distance"].get<double>(), all[n].first, 1e-6);
  }
}

// A cluster model: each point's cluster is aevb cluster's; per-cluster
// samples are aevb sample --per-cluster's; the manifold is refused by name.
TEST_F(CliExplore, AClusterModelShowsItsClustersAndSamples) {
  ASSERT_GT(server_cluster.port, 0);
  const json info = get(server_cluster, "/api/info");
  EXPECT_EQ(info["clusters"], 3);
  EXPECT_EQ(info["manifold"], false);
  std::vector<std::string> cluster = {"cluster", "--model", cluster_model, "--out", path("clusters.csv")};
  for (const auto& a : data_flags()) cluster.push_back(a);
  ASSERT_EQ(run(cluster).exit_code, 0);
  const Table t = read_table(path("clusters.csv"));
  const json points = get(server_cluster, "/api/points");
  EXPECT_EQ(points["projection"]["kind"], "pca");
  for (std::size_t r = 0; r < kCount; ++r) EXPECT_EQ(points["clusters"][r].get<float>(), t.values[r * 4]) << r;
  const json samples = get(server_cluster, "/api/cluster_samples?n=2");
  ASSERT_EQ(samples["samples"].size(), 3u);
  const Vae model = load_model(cluster_model);
  for (std::size_t y = 0; y < 3; ++y) {
    std::vector<float> want(2 * 784);
    model.sample_cluster(y, 1, {want.data(), 2, 784});
    expect_images(samples["samples"][y], want);
  }
  const HttpReply grid = http(server_cluster.port, "GET", "/api/grid?n=5");
  EXPECT_EQ(grid.status, 400);
  EXPECT_NE(grid.body.find("not the cluster family's prior"), std::string::npos) << grid.body;
}

// Malformed and hostile requests: each gets its status with a JSON message,
// and the server answers the next request as before.
TEST_F(CliExplore, HostileRequestsGetAnErrorAndTheServerKeepsServing) {
  struct Case {
    std::string method, target, body;
    int status;
  };
  const std::string big_z = [] {
    json z = json::array();
    for (int r = 0; r < 1025; ++r) z.push_back({0.0, 0.0});
    return json{{"z", z}}.dump();
  }();
  const std::vector<Case> cases = {
      {"GET", "/../../etc/passwd", "", 404},
      {"GET", "/%2e%2e/%2e%2e/etc/passwd", "", 404},
      {"GET", "/api/../CMakeLists.txt", "", 404},
      {"GET", "//etc/passwd", "", 404},
      {"GET", "/explore.js/../../README.md", "", 404},
      {"GET", "/index.html", "", 404},
      {"GET", "/api/point", "", 400},
      {"GET", "/api/point?i=-1", "", 400},
      {"GET", "/api/point?i=1e3", "", 400},
      {"GET", "/api/point?i=NaN", "", 400},
      {"GET", "/api/point?i=99999999999999999999", "", 400},
      {"GET", "/api/point?i=" + std::to_string(kCount), "", 400},
      {"GET", "/api/points?projection=tsne", "", 400},
      {"GET", "/api/points?projection=dims&x=1&y=1", "", 400},
      {"GET", "/api/points?projection=dims&x=0&y=7", "", 400},
      {"GET", "/api/neighbours?i=1&k=100000", "", 400},
      {"GET", "/api/neighbours?i=1&k=0", "", 400},
      {"GET", "/api/grid?n=100000", "", 400},
      {"GET", "/api/cluster_samples", "", 400},
      {"POST", "/api/decode", "not json", 400},
      {"POST", "/api/decode", "[1, 2]", 400},
      {"POST", "/api/decode", "{}", 400},
      {"POST", "/api/decode", R"({"z": []})", 400},
      {"POST", "/api/decode", R"({"z": [[1]]})", 400},
      {"POST", "/api/decode", R"({"z": [[1, "2"]]})", 400},
      {"POST", "/api/decode", R"({"z": [[1e999, 0]]})", 400},
      {"POST", "/api/decode", R"({"z": [[1e300, 0]]})", 400},
      {"POST", "/api/decode", R"({"z": [[null, 0]]})", 400},
      {"POST", "/api/decode", big_z, 400},
      {"POST", "/api/interpolate", R"({"a": 0, "b": 1, "steps": 1000000})", 400},
      {"POST", "/api/interpolate", R"({"a": 0, "b": 1, "steps": 1})", 400},
      {"POST", "/api/interpolate", R"({"a": -3, "b": 1})", 400},
      {"POST", "/api/interpolate", R"({"a": 0.5, "b": 1})", 400},
      {"POST", "/api/interpolate", R"({"a": 0, "b": 1, "mode": "spiral"})", 400},
      {"POST", "/api/info", "{}", 405},
      {"GET", "/api/decode", "", 405},
      {"DELETE", "/api/info", "", 405},
      {"PUT", "/", "", 405},
      {"POST", "/api/decode", std::string(9u << 20, ' '), 413},
  };
  for (const Case& c : cases) {
    const HttpReply r = http(server2.port, c.method, c.target, c.body);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.target << " " << c.body.substr(0, 60) << ": " << r.body;
    if (c.status != 413) {
      const json message = json::parse(r.body, nullptr, false);
      EXPECT_TRUE(message.is_object() && message.contains("error") && !message["error"].get<std::string>().empty())
          << c.target << ": " << r.body;
    }
    EXPECT_EQ(http(server2.port, "GET", "/api/info").status, 200) << "after " << c.method << " " << c.target;
  }
  const HttpReply page = http(server2.port, "GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<html"), std::string::npos);
}

TEST_F(CliExplore, ASecondInstanceOnTheSamePortFailsWithOneLine) {
  std::vector<std::string> args = {"explore", "--model", model2, "--port", std::to_string(server2.port)};
  for (const auto& a : data_flags()) args.push_back(a);
  const CliResult r = run(args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("127.0.0.1:" + std::to_string(server2.port)), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("in use"), std::string::npos) << r.err;
  EXPECT_EQ(http(server2.port, "GET", "/api/info").status, 200);
}

TEST_F(CliExplore, CtrlCStopsTheServerCleanlyAndOtherAddressesWarn) {
  const Server s = start(model2, {"--host", "0.0.0.0"});
  ASSERT_GT(s.port, 0);
  EXPECT_EQ(http(s.port, "GET", "/api/info").status, 200);
  const auto asked = std::chrono::steady_clock::now();
  const CliResult r = stop(s, SIGINT);
  EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::seconds(5));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("stopped"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("warning: serving on 0.0.0.0, not loopback"), std::string::npos) << r.err;
  EXPECT_EQ(http(s.port, "GET", "/api/info").status, 0) << "still answering after Ctrl-C";
}

TEST_F(CliExplore, ExportWritesTheProjectorsFiles) {
  std::vector<std::string> args = {"explore", "--model", model2, "--export", path("projector")};
  for (const auto& a : data_flags()) args.push_back(a);
  const CliResult r = run(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream vectors(path("projector/vectors.tsv"));
  std::size_t rows = 0;
  for (std::string line; std::getline(vectors, line); ++rows) {
    float a = 0, b = 0;
    ASSERT_EQ(std::sscanf(line.c_str(), "%f\t%f", &a, &b), 2) << line;
    EXPECT_EQ(a, means2[rows * 2]);
    EXPECT_EQ(b, means2[rows * 2 + 1]);
  }
  EXPECT_EQ(rows, kCount);
  const std::string metadata = test::read_text_file(path("projector/metadata.tsv"));
  EXPECT_EQ(metadata.substr(0, 18), "index\tlabel\n0\t7\n1\t");  // MNIST's first test labels: 7, 2
  EXPECT_EQ(std::count(metadata.begin(), metadata.end(), '\n'), std::ptrdiff_t(kCount + 1));
  const viz::Image8 sprite = viz::decode_png(test::read_text_file(path("projector/sprite.png")));
  EXPECT_EQ(sprite.width, 8 * 28);  // ceil(sqrt(60)) = 8 columns, no padding
  EXPECT_EQ(sprite.height, 8 * 28);
  const std::string config = test::read_text_file(path("projector/projector_config.pbtxt"));
  EXPECT_NE(config.find("single_image_dim: 28"), std::string::npos) << config;
}

// Every family the project has is served, each saying what it lacks; a
// decoder-only model (trained by mcem) has no encoder to place datapoints
// with, and is refused in one line.
TEST_F(CliExplore, EveryFamilyIsServedAndSaysWhatItLacks) {
  auto config = [](const std::string& family) {
    ModelConfig c;
    c.family = family;
    c.input_dim = 784;
    c.hidden = {16};
    c.latent = 3;
    c.init = Init::glorot;
    c.image_height = c.image_width = 28;
    return c;
  };
  ModelConfig two = config("vae-2layer");
  two.top_latent = 2;
  two.top_hidden = {8};
  const std::vector<std::pair<ModelConfig, std::string>> models = {
      {config("autoencoder"), "point"}, {two, "z1"}};
  for (const auto& [c, note] : models) {
    const std::string file = path(c.family + ".safetensors");
    save_model(file, Vae(c, 3), {{"binarize", "none"}});
    const Server s = start(file);
    ASSERT_GT(s.port, 0) << c.family;
    const json info = get(s, "/api/info");
    EXPECT_EQ(info["family"], c.family);
    EXPECT_EQ(info["manifold"], false);
    EXPECT_NE(info["notes"].dump().find(note), std::string::npos) << info["notes"].dump();
    const json point = get(s, "/api/point?i=2");
    EXPECT_EQ(point["reconstruction"]["values"].size(), 784u);
    if (c.family == "autoencoder") {
      EXPECT_EQ(point["sigma"][0].get<double>(), 0.0);  // a point posterior
    }
    EXPECT_EQ(stop(s, SIGTERM).exit_code, 0);
  }
  ModelConfig decoder_only = config("vae");
  decoder_only.decoder_only = true;
  save_model(path("mcem.safetensors"), Vae(decoder_only, 3), {{"binarize", "none"}});
  std::vector<std::string> args = {"explore", "--model", path("mcem.safetensors"), "--port", "0"};
  for (const auto& a : data_flags()) args.push_back(a);
  const CliResult r = run(args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("no encoder"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace aevb
