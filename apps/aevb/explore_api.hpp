#pragma once
// The explorer's HTTP routes as a function of the request, without a socket:
// the page's files, and /api/* answered by an ExploreSession (the routes and
// their parameters are in docs/explore.md). Only these fixed routes exist, so
// no request can name a file; bad parameters give 400 with a one-line JSON
// message, unknown paths 404, a wrong method 405.
#include "explore_session.hpp"

#include <map>
#include <string>

namespace aevb::cli {

struct ExploreRequest {
  std::string method;  // "GET" or "POST" (others get 405)
  std::string path;    // without the query string
  std::map<std::string, std::string> params;  // the query string's parameters
  std::string body;
};

struct ExploreReply {
  int status = 200;
  std::string content_type;
  std::string body;
};

ExploreReply answer(const ExploreSession& session, const ExploreRequest& request);

}  // namespace aevb::cli
