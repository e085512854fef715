#pragma once
// Text helpers shared by the SVG and HTML writers: escaping for XML/HTML and
// locale-independent number formatting (figures must not depend on LC_NUMERIC).
#include <string>
#include <string_view>

namespace aevb::viz {

/// Escapes text for XML or HTML element content and attribute values:
/// & < > " ' become entities. Bytes that XML 1.0 forbids (control characters
/// other than tab, newline, carriage return) and invalid UTF-8 sequences become
/// U+FFFD, so the output is always well-formed UTF-8.
std::string xml_escape(std::string_view text);

/// `value` with exactly `decimals` digits after the point ("-0.00" prints as
/// "0.00"). Non-finite values print as "nan", "inf" or "-inf".
std::string format_fixed(double value, int decimals);

/// `value` with up to `significant` significant digits, shortest form
/// (like printf's %g): 0.5, -102.25, 1e+06.
std::string format_general(double value, int significant = 6);

}  // namespace aevb::viz
