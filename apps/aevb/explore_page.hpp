#pragma once
// The explorer's page (apps/aevb/explore_page/), embedded in the binary at
// build time by cmake/embed_page.cmake, so that it works offline and no request
// ever reads a file.
#include <span>
#include <string_view>

namespace aevb::cli {

struct PageFile {
  std::string_view path;          // "/", "/explore.js", "/explore.css"
  std::string_view content_type;
  std::string_view content;
};

std::span<const PageFile> page_files();

}  // namespace aevb::cli
