#pragma once
// Base64 (RFC 4648 section 4, standard alphabet, '=' padding), used to embed
// images in the HTML report as data: URIs.
#include <string>
#include <string_view>

namespace aevb::viz {

/// Encodes bytes as base64 with padding and no line breaks.
std::string base64_encode(std::string_view bytes);

/// Decodes padded base64 (no whitespace allowed). Throws aevb::InputError on a
/// length that is not a multiple of 4, a character outside the alphabet, or
/// misplaced padding.
std::string base64_decode(std::string_view text);

}  // namespace aevb::viz
