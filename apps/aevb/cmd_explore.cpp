// aevb explore: a local web page to look inside a trained model
// (docs/explore.md). The page and its API are served from memory by
// cpp-httplib on loopback unless another address is asked for; Ctrl-C or
// SIGTERM stops the server and the command exits 0. --export writes the
// embedding for TensorBoard's projector instead of serving.
#include "commands.hpp"
#include "common.hpp"
#include "explore_api.hpp"
#include "explore_export.hpp"
#include "explore_session.hpp"
#include "stop_signal.hpp"

#include "io/model_file.hpp"

#include <httplib.h>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

namespace aevb::cli {
namespace {

struct ExploreFlags {
  std::string model_path, host = "127.0.0.1", export_dir;
  int port = 8765;
  DataOptions data;
  std::uint64_t seed = 1;
  int threads = 0;
};

// Why `host`:`port` cannot be listened on, as strerror says it ("Address
// already in use"), or "" when it can: cpp-httplib's bind reports only
// failure, and a user needs to know whether the port is taken or the address
// wrong. Binds and closes a socket the way httplib does (SO_REUSEADDR).
std::string listen_problem(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0)
    return gai_strerror(rc);
  std::string problem = "no address";
  for (addrinfo* a = found; a; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) {
      problem = std::strerror(errno);
      continue;
    }
    const int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    const bool bound = ::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 1) == 0;
    if (!bound) problem = std::strerror(errno);
    ::close(fd);
    if (bound) {
      problem.clear();
      break;
    }
  }
  ::freeaddrinfo(found);
  return problem;
}

ExploreRequest request_of(const httplib::Request& r) {
  ExploreRequest e{r.method, r.path, {}, r.body};
  for (const auto& [key, value] : r.params) e.params.emplace(key, value);  // the first of repeated keys
  return e;
}

void serve(const ExploreSession& session, const ExploreFlags& f) {
  if (f.port < 0 || f.port > 65535)
    throw InputError("--port " + std::to_string(f.port) + ": expected 0 (any free port) to 65535");
  httplib::Server server;
  server.set_payload_max_length(8u << 20);  // a decode request of 1024 latent points fits many times over
  auto handler = [&session](const httplib::Request& req, httplib::Response& res) {
    const ExploreReply reply = answer(session, request_of(req));
    res.status = reply.status;
    res.set_content(reply.body, reply.content_type.c_str());
    res.set_header("Cache-Control", "no-store");
  };
  // Every method and path goes to answer(), which knows the only routes there are.
  server.Get(".*", handler);
  server.Post(".*", handler);
  server.Put(".*", handler);
  server.Delete(".*", handler);
  server.Patch(".*", handler);
  server.Options(".*", handler);
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content(R"({"error": "internal error"})", "application/json");
  });

  if (f.host != "127.0.0.1" && f.host != "localhost" && f.host != "::1")
    std::fprintf(stderr,
                 "aevb explore: warning: serving on %s, not loopback: anyone who can reach this machine can see "
                 "the model and its data (there is no authentication)\n",
                 f.host.c_str());
  int port = f.port;
  if (port == 0) {
    port = server.bind_to_any_port(f.host.c_str());
    if (port < 0) throw InputError("explore: cannot listen on " + f.host + ": " + listen_problem(f.host, 0));
  } else {
    if (const std::string problem = listen_problem(f.host, port); !problem.empty())
      throw InputError("explore: cannot listen on " + f.host + ":" + std::to_string(port) + ": " + problem +
                       " (choose another --port, or stop what holds it)");
    if (!server.bind_to_port(f.host.c_str(), port))
      throw InputError("explore: cannot listen on " + f.host + ":" + std::to_string(port));
  }
  const std::string shown = f.host.find(':') != std::string::npos ? "[" + f.host + "]" : f.host;
  std::printf("aevb explore: serving http://%s:%d/ (Ctrl-C stops)\n", shown.c_str(), port);
  std::fflush(stdout);

  const StopSignal stop;
  std::atomic<bool> done{false};
  // Asks again until the server has ended: a signal before listen_after_bind
  // started would otherwise be lost.
  std::thread watcher([&] {
    while (!done) {
      if (stop.received()) server.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  const bool listened = server.listen_after_bind();
  done = true;
  watcher.join();
  if (!stop.received() && !listened) throw InputError("explore: the server on port " + std::to_string(port) + " failed");
  std::printf("aevb explore: stopped (signal %d)\n", stop.received());
}

void run_explore(const ExploreFlags& f) {
  set_threads(f.threads);
  Vae model = load_model(f.model_path);
  Dataset data = f.data.load();
  const Binarize binarize = evaluation_binarization(f.data.binarize, f.model_path);
  const std::string name = std::filesystem::path(f.model_path).filename().string();
  const ExploreSession session(std::move(model), std::move(data), name, binarize, f.seed);
  if (!f.export_dir.empty()) {
    std::printf("%s\n", export_projector(session, f.export_dir).c_str());
    return;
  }
  serve(session, f);
}

}  // namespace

void add_explore_command(CLI::App& app) {
  auto flags = std::make_shared<ExploreFlags>();
  CLI::App* cmd = app.add_subcommand("explore", "a local web page to look inside a trained model");
  cmd->footer(
      "Encodes the datapoints and serves one page on http://HOST:PORT/: their posterior means as a scatter (PCA, or "
      "two chosen dimensions), coloured by label or cluster; hover to decode the point under the cursor, click to "
      "select a datapoint (its sigma ellipse, reconstruction and nearest neighbours), a slider per latent dimension, "
      "interpolations (linear and slerp) between two datapoints, the decoded manifold of a 2-D latent, per-cluster "
      "samples. The page is in the binary; nothing is fetched from outside. Ctrl-C stops the server (exit 0). "
      "--export DIR writes vectors.tsv, metadata.tsv, sprite.png and projector_config.pbtxt for TensorBoard's "
      "Embedding Projector instead. docs/explore.md.");
  cmd->add_option("--model", flags->model_path, "model file (model.safetensors)")->required();
  flags->data.add_to(*cmd, "test");
  cmd->add_option("--port", flags->port, "TCP port; 0 picks a free one (printed)")->capture_default_str();
  cmd->add_option("--host", flags->host,
                  "address to listen on; other than loopback makes the page reachable from other machines")
      ->capture_default_str();
  cmd->add_option("--export", flags->export_dir, "write the embedding for TensorBoard's projector into DIR, no server");
  cmd->add_option("--seed", flags->seed, "seed of the fixed binarization sample")->capture_default_str();
  add_threads_option(*cmd, flags->threads);
  cmd->callback([flags] { run_explore(*flags); });
}

}  // namespace aevb::cli
