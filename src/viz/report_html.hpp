#pragma once
// An offline single-file HTML report: a title, tables of key/value numbers,
// headings, paragraphs, and figures (inline SVG, PNG as base64 data: URIs)
// with captions. It references nothing outside the file: no scripts, no
// fonts, no stylesheets from elsewhere. All text is HTML-escaped.
//
//   Report r("MNIST, Nz = 20");
//   r.add_table({{"test ELBO", -99.3}, {"epochs", 10}}, "Results")
//    .add_svg(render_curve_svg(series), "Lower bound against samples evaluated")
//    .add_png(encode_png(grid), "Samples from the prior");
//   write_file_atomic(dir / "report.html", r.render());
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace aevb::viz {

/// A number for a report table, locale-independent: integral values up to
/// 2^53 in full ("60000000"), others with `significant` significant digits
/// ("-99.3125", "1.5e-07"); "nan", "inf", "-inf".
std::string format_number(double v, int significant = 6);

/// One table row: text, or a number (integers exactly, floating point through
/// format_number, bool as yes/no).
struct ReportRow {
  std::string key;
  std::string value;
  ReportRow(std::string k, std::string v) : key(std::move(k)), value(std::move(v)) {}
  ReportRow(std::string k, const char* v) : key(std::move(k)), value(v != nullptr ? v : "") {}
  template <class T>
    requires std::is_arithmetic_v<T>
  ReportRow(std::string k, T v, int significant = 6) : key(std::move(k)) {
    if constexpr (std::is_same_v<T, bool>) {
      value = v ? "yes" : "no";
    } else if constexpr (std::is_integral_v<T>) {
      value = std::to_string(v);
    } else {
      value = format_number(static_cast<double>(v), significant);
    }
  }
};

class Report {
 public:
  explicit Report(std::string title);

  /// A section heading (h2).
  Report& add_heading(std::string_view text);
  Report& add_paragraph(std::string_view text);
  /// A two-column table; an optional caption is shown above it.
  Report& add_table(const std::vector<ReportRow>& rows, std::string_view caption = {});
  /// Inline SVG markup (trusted: our own figures; an XML declaration is
  /// dropped). Throws aevb::InputError when `svg` is not an <svg> document.
  Report& add_svg(std::string_view svg, std::string_view caption = {});
  /// A PNG embedded as a data:image/png;base64 URI. Small images are shown
  /// enlarged by an integer factor (crisp pixels) unless display_scale > 0
  /// fixes it. Throws aevb::InputError when the bytes are not a PNG.
  Report& add_png(std::string_view png_bytes, std::string_view caption = {}, std::string_view alt = {},
                  int display_scale = 0);

  /// The whole document.
  std::string render() const;

 private:
  std::string title_;
  std::vector<std::string> blocks_;  // rendered HTML fragments, in order
};

/// Escapes text for HTML (the same rules as xml_escape).
std::string html_escape(std::string_view text);

}  // namespace aevb::viz
