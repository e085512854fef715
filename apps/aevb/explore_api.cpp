#include "explore_api.hpp"

#include "explore_page.hpp"

#include <aevb/error.hpp>

#include <charconv>
#include <cmath>
#include <functional>
#include <utility>

namespace aevb::cli {
namespace {

using nlohmann::json;

ExploreReply json_reply(int status, const json& body) {
  // Non-finite numbers (a decoder's overflow) become null rather than invalid JSON.
  return {status, "application/json", body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

ExploreReply error_reply(int status, const std::string& message) { return json_reply(status, {{"error", message}}); }

// A whole number from a query parameter: digits only, at most 9 of them (so no
// overflow), else BadRequest naming it. Absent: `fallback`, or BadRequest when there is none.
std::size_t count_param(const ExploreRequest& r, const std::string& name, std::optional<std::size_t> fallback = {}) {
  const auto it = r.params.find(name);
  if (it == r.params.end()) {
    if (fallback) return *fallback;
    throw BadRequest("missing parameter " + name);
  }
  const std::string& text = it->second;
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || text.size() > 9 || ec != std::errc() || end != text.data() + text.size())
    throw BadRequest("parameter " + name + "=" + text.substr(0, 40) + ": expected a whole number");
  return value;
}

Projection projection_param(const ExploreSession& s, const ExploreRequest& r) {
  const auto it = r.params.find("projection");
  if (it == r.params.end()) return s.default_projection();
  if (it->second == "pca") return {};
  if (it->second == "dims") return {Projection::Kind::dims, count_param(r, "x", 0), count_param(r, "y", 1)};
  throw BadRequest("parameter projection=" + it->second.substr(0, 40) + ": expected pca or dims");
}

json body_json(const ExploreRequest& r) {
  json body = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) throw BadRequest("body: not valid JSON (numbers beyond double's range are not)");
  if (!body.is_object()) throw BadRequest(std::string("body: expected a JSON object, found ") + body.type_name());
  return body;
}

std::size_t body_count(const json& body, const char* name, std::optional<std::size_t> fallback = {}) {
  if (!body.contains(name)) {
    if (fallback) return *fallback;
    throw BadRequest(std::string("body: missing field ") + name);
  }
  const json& v = body[name];
  if (!v.is_number_unsigned() || v.get<std::uint64_t>() > 999'999'999u)
    throw BadRequest(std::string("body: field ") + name + " must be a whole number, found " + v.dump().substr(0, 40));
  return v.get<std::size_t>();
}

// {"z": [[...], ...]}: rows of exactly `latent` numbers, flattened.
std::vector<float> latent_rows(const json& body, std::size_t latent) {
  if (!body.contains("z") || !body["z"].is_array() || body["z"].empty() ||
      body["z"].size() > ExploreLimits::decode_rows)
    throw BadRequest("body: expected z, an array of 1 to " + std::to_string(ExploreLimits::decode_rows) +
                     " latent points");
  std::vector<float> z;
  z.reserve(body["z"].size() * latent);
  for (const json& row : body["z"]) {
    if (!row.is_array() || row.size() != latent)
      throw BadRequest("body: each row of z must be an array of " + std::to_string(latent) + " numbers");
    for (const json& v : row) {
      if (!v.is_number()) throw BadRequest("body: z holds a value that is not a number: " + v.dump().substr(0, 40));
      const double d = v.get<double>();
      if (!(std::abs(d) <= ExploreLimits::latent_magnitude))
        throw BadRequest("body: latent values must be finite numbers within +-" +
                         std::to_string(int(ExploreLimits::latent_magnitude)));
      z.push_back(static_cast<float>(d));
    }
  }
  return z;
}

Interpolation path_of(const json& body) {
  if (!body.contains("mode")) return Interpolation::linear;
  if (body["mode"] == "linear") return Interpolation::linear;
  if (body["mode"] == "slerp") return Interpolation::spherical;
  throw BadRequest("body: mode " + body["mode"].dump().substr(0, 40) + ": expected \"linear\" or \"slerp\"");
}

using Handler = std::function<json(const ExploreSession&, const ExploreRequest&)>;
struct Route {
  const char* method;
  Handler handler;
};

const std::map<std::string, Route>& api_routes() {
  static const std::map<std::string, Route> routes = {
      {"/api/info", {"GET", [](const ExploreSession& s, const ExploreRequest&) { return s.info(); }}},
      {"/api/points",
       {"GET", [](const ExploreSession& s, const ExploreRequest& r) { return s.points(projection_param(s, r)); }}},
      {"/api/point",
       {"GET",
        [](const ExploreSession& s, const ExploreRequest& r) {
          return s.point(count_param(r, "i"), projection_param(s, r));
        }}},
      {"/api/decode",
       {"POST",
        [](const ExploreSession& s, const ExploreRequest& r) { return s.decode(latent_rows(body_json(r), s.latent())); }}},
      {"/api/interpolate",
       {"POST",
        [](const ExploreSession& s, const ExploreRequest& r) {
          const json body = body_json(r);
          return s.interpolate(body_count(body, "a"), body_count(body, "b"), body_count(body, "steps", 10),
                               path_of(body));
        }}},
      {"/api/grid",
       {"GET", [](const ExploreSession& s, const ExploreRequest& r) { return s.grid(count_param(r, "n", 15)); }}},
      {"/api/neighbours",
       {"GET",
        [](const ExploreSession& s, const ExploreRequest& r) {
          return s.neighbours(count_param(r, "i"), count_param(r, "k", 8));
        }}},
      {"/api/cluster_samples",
       {"GET",
        [](const ExploreSession& s, const ExploreRequest& r) { return s.cluster_samples(count_param(r, "n", 8)); }}},
  };
  return routes;
}

}  // namespace

ExploreReply answer(const ExploreSession& session, const ExploreRequest& request) {
  if (request.method != "GET" && request.method != "POST")
    return error_reply(405, "method " + request.method.substr(0, 20) + " is not served");
  for (const PageFile& file : page_files()) {
    if (request.path != file.path) continue;
    if (request.method != "GET") return error_reply(405, request.path + " answers GET only");
    return {200, std::string(file.content_type), std::string(file.content)};
  }
  const auto route = api_routes().find(request.path);
  if (route == api_routes().end())
    return error_reply(404, "no such page: " + request.path.substr(0, 80) + " (the explorer serves / and /api/*)");
  if (request.method != route->second.method)
    return error_reply(405, request.path + " answers " + route->second.method + " only");
  try {
    return json_reply(200, route->second.handler(session, request));
  } catch (const BadRequest& e) {
    return error_reply(400, e.what());
  } catch (const InputError& e) {  // a library check behind the session's own
    return error_reply(400, e.what());
  }
}

}  // namespace aevb::cli
